import { execFileSync } from 'node:child_process';
import { it } from 'vitest';

// Tests that need a program outside Node (redis-server, a Python with `requests`) run when it is
// installed. When it is missing they are not silently green: a warning is printed at collection
// time and a skipped test named "NOT RUN: <package> missing — <how to install>" shows in the report.
// With BATCHLENS_REQUIRE_SYSTEM_PACKAGES=1 (CI sets it) that test runs instead, and fails.

export interface SystemPackage {
  /** What is missing, as the test title says it: "redis-server", "python3 with requests". */
  name: string;
  /** How to install it on Debian / Ubuntu. */
  install: string;
  /** Which tests need it. */
  neededBy: string;
  /** The command to run it with, or undefined when it is not installed. */
  find(): string | undefined;
}

/** Does `command args` run and exit 0 (output ignored)? */
function succeeds(command: string, args: string[]): boolean {
  try {
    execFileSync(command, args, { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

export const REDIS_SERVER: SystemPackage = {
  name: 'redis-server',
  install: 'apt-get install redis-server',
  neededBy: 'the live-view tests over Redis pub/sub (test/live-redis.test.ts)',
  find: () => (succeeds('redis-server', ['--version']) ? 'redis-server' : undefined),
};

export const PYTHON_REQUESTS: SystemPackage = {
  name: 'python3 with requests',
  install: 'apt-get install python3-requests',
  neededBy: 'the DataRobot Python client test (test/batches/datarobot-client.test.ts)',
  // The first Python on this machine that has `requests`.
  find: () => ['python3', '/usr/bin/python3'].find((python) => succeeds(python, ['-c', 'import requests'])),
};

export const REQUIRE_SYSTEM_PACKAGES = process.env.BATCHLENS_REQUIRE_SYSTEM_PACKAGES === '1';

/**
 * The command to run `pkg` with, or undefined when it is missing; call it at the top of a test file
 * and run the tests that need it with `describe.runIf(command)`. When it is missing, this warns and
 * declares the "NOT RUN: …" test (skipped, or failing under BATCHLENS_REQUIRE_SYSTEM_PACKAGES=1).
 */
export function systemPackage(pkg: SystemPackage): string | undefined {
  const command = pkg.find();
  if (command) return command;
  const title = `NOT RUN: ${pkg.name} missing — ${pkg.install}`;
  const consequence = REQUIRE_SYSTEM_PACKAGES
    ? 'BATCHLENS_REQUIRE_SYSTEM_PACKAGES=1: this fails the run'
    : 'Skipped (BATCHLENS_REQUIRE_SYSTEM_PACKAGES=1 makes this a failure)';
  console.warn(`\n⚠️  ${title}\n   Not run: ${pkg.neededBy}. ${consequence}.\n`);
  const missing = () => {
    throw new Error(`${pkg.name} is not installed, so ${pkg.neededBy} cannot run. Install it: ${pkg.install}`);
  };
  if (REQUIRE_SYSTEM_PACKAGES) it(title, missing);
  else it.skip(title, missing);
  return undefined;
}

export const CHROMIUM: SystemPackage = {
  name: 'chromium',
  install: 'apt-get install chromium',
  neededBy: 'the dashboard tests in a real browser (test/web/*.test.ts)',
  find: () => ['/usr/bin/chromium', 'chromium', 'chromium-browser'].find((command) => succeeds(command, ['--version'])),
};

export const TMPFS_MOUNT: SystemPackage = {
  name: 'tmpfs mounts (root)',
  install: 'run the tests as root (or in a container with CAP_SYS_ADMIN), where `mount -t tmpfs` works',
  neededBy: 'the full-disk tests on a small tmpfs (test/crash/disk-full.test.ts)',
  // Mounts and unmounts a 1 MB tmpfs in a temporary directory.
  find: () => {
    const dir = execFileSync('mktemp', ['-d']).toString().trim();
    try {
      if (!succeeds('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir])) return undefined;
      succeeds('umount', [dir]);
      return 'mount';
    } finally {
      succeeds('rmdir', [dir]);
    }
  },
};
