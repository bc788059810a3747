import fs from 'node:fs';
import os from 'node:os';

/** Bytes available to an unprivileged user on the filesystem holding `dir`. */
export function freeBytes(dir = os.tmpdir()): number {
  const stats = fs.statfsSync(dir);
  return stats.bavail * stats.bsize;
}

export const gb = (bytes: number) => Math.round((bytes / 1024 ** 3) * 10) / 10;
