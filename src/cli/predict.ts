import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, stat, writeFile } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiError, BatchlensApi, isFinal, type Job, type JobSpec } from './api.js';
import { formatBytes, Progress, type ProgressStream } from './progress.js';

// `batchlens predict <input.csv> <output.csv> --deployment <id>`: scores a CSV file through a
// batch prediction job, over the server's public REST API only (DataRobot's Batch Prediction API):
// create the job, stream the file up, follow the job while streaming its output down as chunks
// are scored, and end with a summary. Ctrl-C aborts the job on the server.

export const DEFAULT_URL = 'http://127.0.0.1:4000';

export const EXIT = { ok: 0, failed: 1, usage: 2, sigint: 130, sigterm: 143 } as const;

export interface PredictArgs {
  input: string;
  output: string;
  deploymentId: string;
  /** Else env BATCHLENS_URL, else DEFAULT_URL. */
  url?: string;
  /** Else env BATCHLENS_TOKEN. */
  token?: string;
  monitoringBatchPrefix?: string;
  passthroughColumns?: string[];
  passthroughAll?: boolean;
  concurrency?: number;
  chunkSize?: number | 'auto' | 'fixed' | 'dynamic';
}

export interface CliIo {
  env: Record<string, string | undefined>;
  stdout: ProgressStream;
  stderr: ProgressStream;
  /** Aborted on SIGINT / SIGTERM, with the signal's name as its reason. */
  interrupt?: AbortSignal;
  /** Between two reads of the job (default 500 ms). */
  pollIntervalMs?: number;
}

/** Runs the command; answers the exit code (0 COMPLETED, 1 failed / refused, 2 usage, 130 / 143 interrupted). */
export async function predict(args: PredictArgs, io: CliIo): Promise<number> {
  const url = args.url ?? io.env.BATCHLENS_URL ?? DEFAULT_URL;
  const token = args.token ?? io.env.BATCHLENS_TOKEN;
  if (!token) {
    io.stderr.write('error: no API token: pass --token TOKEN or set BATCHLENS_TOKEN\n');
    return EXIT.usage;
  }
  let api: BatchlensApi;
  try {
    api = new BatchlensApi(url, token);
  } catch (error) {
    io.stderr.write(`error: --url: ${(error as Error).message}\n`);
    return EXIT.usage;
  }
  return new PredictRun(args, io, api).run();
}

/** Records (CSV lines, quoted line breaks aside) of a CSV byte stream, counted as it passes. */
class RecordCounter extends Transform {
  records = 0;
  bytes = 0;
  private quoted = false;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null, data?: Buffer) => void): void {
    // '"' and '\n' never occur inside a UTF-8 multi-byte sequence: bytes will do.
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]!;
      if (byte === 0x22) this.quoted = !this.quoted;
      else if (byte === 0x0a && !this.quoted) this.records++;
    }
    this.bytes += chunk.length;
    done(null, chunk);
  }
}

const DOWNLOAD_ATTEMPTS = 3;

/** The job's output streamed into a file as the server writes it; started over (up to 3 times) if the connection breaks. */
class Download {
  private counter = new RecordCounter();
  private readonly controller = new AbortController();
  readonly finished: Promise<void>;
  done = false;
  error: Error | null = null;

  constructor(
    private readonly api: BatchlensApi,
    readonly url: string,
    private readonly file: string,
    interrupt: AbortSignal | undefined,
  ) {
    interrupt?.addEventListener('abort', () => this.controller.abort(interrupt.reason), { once: true });
    this.finished = this.run();
    this.finished.catch(() => {}); // read through `error` and awaited where it matters
  }

  /** Output rows written so far (the header aside). */
  get rows(): number {
    return Math.max(0, this.counter.records - 1);
  }

  get bytes(): number {
    return this.counter.bytes;
  }

  stop(): void {
    this.controller.abort(new Error('stopped'));
  }

  private async run(): Promise<void> {
    const signal = this.controller.signal;
    for (let attempt = 1; ; attempt++) {
      try {
        this.counter = new RecordCounter();
        const response = await this.api.download(this.url, signal);
        if (!response.body) throw new ApiError('the download has no body', response.status);
        await pipeline(Readable.fromWeb(response.body as WebReadableStream<Uint8Array>), this.counter, createWriteStream(this.file), {
          signal,
        });
        this.done = true;
        return;
      } catch (error) {
        if (signal.aborted || attempt >= DOWNLOAD_ATTEMPTS || (error instanceof ApiError && !error.transient && error.status !== 404)) {
          this.error = error as Error;
          throw error;
        }
        await sleep(500 * attempt, undefined, { signal });
      }
    }
  }
}

class PredictRun {
  private readonly progress: Progress;
  private readonly started = Date.now();
  private readonly partial: string;
  private readonly pollMs: number;
  private job: Job | null = null;
  private uploaded = false;
  private download: Download | null = null;

  constructor(
    private readonly args: PredictArgs,
    private readonly io: CliIo,
    private readonly api: BatchlensApi,
  ) {
    this.progress = new Progress(io.stderr);
    this.partial = `${args.output}.partial`;
    this.pollMs = io.pollIntervalMs ?? 500;
  }

  private get interrupt(): AbortSignal | undefined {
    return this.io.interrupt;
  }

  async run(): Promise<number> {
    try {
      const size = await this.prepareFiles();
      // Not cut short by Ctrl-C: once sent, the job exists, and only its answer names it to abort.
      this.job = await this.api.createJob(this.spec(), AbortSignal.timeout(60_000));
      this.progress.line(`Job ${this.job.id} created for deployment ${this.args.deploymentId}`);
      this.interrupt?.throwIfAborted();
      this.job = await this.upload(size);
      this.uploaded = true;
      this.job = await this.follow();
      return await this.finish();
    } catch (error) {
      if (this.interrupt?.aborted) return this.interrupted();
      this.progress.stop();
      this.io.stderr.write(`error: ${describe(error)}\n`);
      await this.discardOutput();
      // A job whose upload failed would wait for one forever: abort it.
      if (this.job && !this.uploaded) await this.api.abortJob(this.job.id, AbortSignal.timeout(10_000)).catch(() => {});
      else if (this.job && !isFinal(this.job.status)) this.io.stderr.write(`The job ${this.job.id} goes on on the server.\n`);
      return EXIT.failed;
    }
  }

  private spec(): JobSpec {
    const { args } = this;
    return {
      deploymentId: args.deploymentId,
      intakeSettings: { type: 'localFile' },
      outputSettings: { type: 'localFile' },
      ...(args.monitoringBatchPrefix !== undefined ? { monitoringBatchPrefix: args.monitoringBatchPrefix } : {}),
      ...(args.passthroughAll ? { passthroughColumnsSet: 'all' as const } : {}),
      ...(args.passthroughColumns?.length ? { passthroughColumns: args.passthroughColumns } : {}),
      ...(args.concurrency !== undefined ? { numConcurrent: args.concurrency } : {}),
      ...(args.chunkSize !== undefined ? { chunkSize: args.chunkSize } : {}),
    };
  }

  /** The input must be a readable file and the output writable before a job is made for them. */
  private async prepareFiles(): Promise<number> {
    const input = await stat(this.args.input).catch((error: NodeJS.ErrnoException) => {
      throw new Error(`cannot read ${this.args.input}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`);
    });
    if (!input.isFile()) throw new Error(`${this.args.input} is not a file`);
    await writeFile(this.partial, '').catch((error: NodeJS.ErrnoException) => {
      throw new Error(`cannot write ${this.partial}: ${error.message}`);
    });
    return input.size;
  }

  /** PUT the file to the job's csvUpload link, streamed from disk. */
  private async upload(size: number): Promise<Job> {
    const job = this.job!;
    if (!job.links.csvUpload) throw new Error(`the server gave job ${job.id} no csvUpload link`);
    const t0 = Date.now();
    let sent = 0;
    const show = () =>
      this.progress.update({
        stage: 'upload',
        phase: 'uploading',
        percent: size ? (sent / size) * 100 : 100,
        detail: `${formatBytes(sent)} / ${formatBytes(size)}`,
      });
    const file = this.args.input;
    async function* counted(): AsyncGenerator<Uint8Array> {
      for await (const chunk of createReadStream(file)) {
        sent += (chunk as Buffer).length;
        show();
        yield chunk as Buffer;
      }
    }
    show();
    const uploaded = await this.api.uploadCsv(job.links.csvUpload, counted(), this.interrupt);
    this.progress.line(
      `Uploaded ${this.args.input}: ${uploaded.jobIntakeSize ?? '?'} rows, ${formatBytes(size)} in ${seconds(Date.now() - t0)}`,
    );
    return uploaded;
  }

  /** Reads the job until it ends, starting the download as soon as the server offers it. */
  private async follow(): Promise<Job> {
    let job = this.job!;
    let failures = 0;
    for (;;) {
      if (!this.download && job.links.download) this.startDownload(job.links.download);
      this.showJob(job);
      if (isFinal(job.status)) return job;
      if (this.download?.error) throw new Error(`downloading the output failed: ${describe(this.download.error)}`);
      await sleep(this.pollMs, undefined, { signal: this.interrupt });
      try {
        job = await this.api.getJob(job.id, this.interrupt);
        this.job = job;
        failures = 0;
      } catch (error) {
        // A server restarting or a network hiccup: keep asking for a while (20 tries).
        if (this.interrupt?.aborted || !(error instanceof ApiError) || !error.transient || ++failures >= 20) throw error;
      }
    }
  }

  private startDownload(url: string): void {
    this.download = new Download(this.api, url, this.partial, this.interrupt);
  }

  private showJob(job: Job): void {
    const total = job.jobIntakeSize ?? 0;
    const failed = job.failedRows ? `, ${job.failedRows} failed` : '';
    const output = this.download ? `; ${this.download.rows} rows downloaded` : '';
    this.progress.update({
      stage: 'job',
      phase: job.status,
      percent: job.percentageCompleted,
      detail: `${job.scoredRows}/${total} rows scored${failed}${output}`,
    });
  }

  private async finish(): Promise<number> {
    const job = this.job!;
    if (job.status !== 'COMPLETED') {
      this.progress.stop();
      this.download?.stop();
      await this.discardOutput();
      await this.summary(job, `${job.status}: ${job.statusDetails}`);
      return EXIT.failed;
    }
    if (!this.download) {
      if (!job.links.download) throw new Error(`job ${job.id} completed but the server offers no download (were its results deleted?)`);
      this.startDownload(job.links.download);
    }
    const download = this.download!;
    const expected = job.jobIntakeSize ?? 0;
    const showDownload = () =>
      this.progress.update({
        stage: 'job',
        phase: 'downloading',
        percent: expected ? (download.rows / expected) * 100 : 100,
        detail: `${download.rows}/${expected} rows, ${formatBytes(download.bytes)}`,
      });
    let waited = false;
    while (!download.done && !download.error) {
      showDownload();
      waited = true;
      await Promise.race([download.finished.catch(() => {}), sleep(this.pollMs, undefined, { signal: this.interrupt })]);
      this.interrupt?.throwIfAborted();
    }
    if (download.error) throw new Error(`downloading the output failed: ${describe(download.error)}`);
    if (download.rows !== expected) {
      throw new Error(`the output has ${download.rows} rows but the job scored ${expected}: the download ended early`);
    }
    if (waited) showDownload();
    await rename(this.partial, this.args.output);
    await this.summary(job, `COMPLETED: ${this.args.output} written (${download.rows} rows, ${formatBytes(download.bytes)})`);
    return EXIT.ok;
  }

  private async summary(job: Job, headline: string): Promise<void> {
    this.progress.line(headline);
    let batch = job.monitoringBatchId ?? '(none)';
    if (job.monitoringBatchId) {
      const name = await this.api.batchName(this.args.deploymentId, job.monitoringBatchId, AbortSignal.timeout(5000)).catch(() => null);
      if (name) batch += ` "${name}"`;
    }
    const lines = [
      `  rows scored:      ${job.scoredRows}`,
      `  rows failed:      ${job.failedRows}`,
      `  monitoring batch: ${batch}`,
      `  elapsed:          ${seconds(Date.now() - this.started)}`,
      `  job:              ${job.id}`,
    ];
    this.io.stderr.write(`${lines.join('\n')}\n`);
  }

  /** Ctrl-C: abort the job on the server (unless it has ended), leave no output behind. */
  private async interrupted(): Promise<number> {
    this.progress.stop();
    const reason = String(this.interrupt?.reason ?? 'SIGINT');
    this.io.stderr.write(`Interrupted (${reason})\n`);
    this.download?.stop();
    const job = this.job;
    if (job && !isFinal(job.status)) {
      try {
        const aborted = await this.api.abortJob(job.id, AbortSignal.timeout(10_000));
        this.io.stderr.write(`Job ${job.id} ${aborted.status === 'ABORTED' ? 'aborted' : `is ${aborted.status}`} on the server\n`);
      } catch (error) {
        this.io.stderr.write(`error: could not abort job ${job.id}: ${describe(error)}\n`);
      }
    } else if (job) {
      this.io.stderr.write(`Job ${job.id} had already ended (${job.status}); it is left as it is\n`);
    }
    await this.discardOutput();
    return reason === 'SIGTERM' ? EXIT.sigterm : EXIT.sigint;
  }

  private async discardOutput(): Promise<void> {
    if (this.download) {
      this.download.stop();
      await this.download.finished.catch(() => {});
    }
    await rm(this.partial, { force: true });
  }
}

function describe(error: unknown): string {
  if (error instanceof ApiError) return error.status ? `${error.message} (HTTP ${error.status})` : error.message;
  return error instanceof Error ? error.message : String(error);
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
