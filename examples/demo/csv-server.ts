import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Day, daysByMonth, FEATURES } from './weather-data.js';

// The files a scheduled batch prediction job reads: one CSV per month of Seattle's weather, as an
// upstream system would drop them, served over HTTP for the job definition's URL intake. Each row
// is a day's measurements and its date (the association id); the weather itself is not in them —
// it arrives later, as the actuals.

export const CSV_COLUMNS = ['date', ...FEATURES] as const;

export interface CsvServer {
  /** Base URL, e.g. http://127.0.0.1:41234 */
  url: string;
  /** Where the CSV of a month (YYYY-MM) is. */
  monthUrl(month: string): string;
  stop(): Promise<void>;
}

/** A month's days as the job's input file. */
export function monthCsv(days: Day[]): string {
  const lines = days.map((day) => CSV_COLUMNS.map((column) => String(day[column])).join(','));
  return `${CSV_COLUMNS.join(',')}\n${lines.join('\n')}\n`;
}

/**
 * Serves `GET /seattle-weather/<YYYY-MM>.csv` for every month of `days` (404 for anything else) on
 * `host` (loopback by default: the batchlens server fetching it runs on this machine).
 */
export async function startCsvServer(days: Day[], options: { host?: string; port?: number } = {}): Promise<CsvServer> {
  const files = new Map<string, string>();
  for (const [month, of] of daysByMonth(days)) files.set(`/seattle-weather/${month}.csv`, monthCsv(of));
  const server = http.createServer((req, res) => {
    const file = req.method === 'GET' || req.method === 'HEAD' ? files.get(new URL(req.url ?? '/', 'http://x').pathname) : undefined;
    if (file === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8', 'content-length': Buffer.byteLength(file) });
    res.end(req.method === 'HEAD' ? undefined : file);
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    url,
    monthUrl: (month) => `${url}/seattle-weather/${month}.csv`,
    stop: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
