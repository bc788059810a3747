export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The next UTC midnight after `now` (ISO), when the daily batch quota resets. */
export function nextUtcMidnight(now = new Date()): string {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1)).toISOString();
}
