import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

// Builds the dashboard (web/ → web/dist) when its sources changed since the last build: run by
// `npm install` (prepare), `npm start` (prestart) and the browser tests, so the page the server
// serves is never older than its sources. `--force` builds anyway; `--report` prints the sizes.

const WEB = fileURLToPath(new URL('../web/', import.meta.url));
const DIST = join(WEB, 'dist');
const STAMP = join(DIST, '.source-hash');

function sourceFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return entry.name === 'dist' || entry.name === 'node_modules' ? [] : sourceFiles(path);
    return [path];
  });
}

/** One hash over the page's sources and the locked package versions that go into the bundle. */
export function sourceHash(): string {
  const hash = createHash('sha256');
  const lock = fileURLToPath(new URL('../package-lock.json', import.meta.url));
  for (const file of [...sourceFiles(WEB), lock].sort()) {
    hash.update(relative(WEB, file));
    hash.update(readFileSync(file));
  }
  return hash.digest('hex');
}

export function isWebBuildCurrent(): boolean {
  return existsSync(STAMP) && readFileSync(STAMP, 'utf8').trim() === sourceHash();
}

/** The built files with their raw and gzipped sizes (bytes). */
export function bundleSizes(): { file: string; bytes: number; gzipBytes: number }[] {
  return sourceFiles(DIST)
    .filter((file) => !file.endsWith('.source-hash'))
    .map((file) => {
      const content = readFileSync(file);
      return { file: relative(DIST, file), bytes: statSync(file).size, gzipBytes: gzipSync(content, { level: 9 }).length };
    });
}

export async function ensureWebBuilt(options: { force?: boolean; quiet?: boolean } = {}): Promise<'built' | 'current'> {
  const hash = sourceHash();
  if (!options.force && existsSync(STAMP) && readFileSync(STAMP, 'utf8').trim() === hash) return 'current';
  const { build } = await import('vite');
  await build({ configFile: join(WEB, 'vite.config.ts'), logLevel: options.quiet ? 'silent' : 'warn' });
  writeFileSync(STAMP, `${hash}\n`);
  return 'built';
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const started = performance.now();
  const outcome = await ensureWebBuilt({ force: process.argv.includes('--force') });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(outcome === 'built' ? `dashboard built into web/dist in ${seconds} s` : 'dashboard bundle is current (web/dist)');
  if (process.argv.includes('--report') || outcome === 'built') {
    const sizes = bundleSizes();
    for (const { file, bytes, gzipBytes } of sizes)
      console.log(`  ${file}: ${(bytes / 1024).toFixed(1)} KiB, ${(gzipBytes / 1024).toFixed(1)} KiB gzipped`);
    const total = sizes.reduce((sum, size) => sum + size.gzipBytes, 0);
    console.log(`  total gzipped: ${(total / 1024).toFixed(1)} KiB`);
  }
}
