// The few routes of batchlens's public REST API the command line uses (DataRobot's Batch
// Prediction API), over fetch. The CLI knows the server only through these answers: it imports
// nothing from the server's code.

export type JobStatus = 'INITIALIZING' | 'RUNNING' | 'COMPLETED' | 'ABORTED' | 'FAILED';

export const isFinal = (status: JobStatus) => status === 'COMPLETED' || status === 'ABORTED' || status === 'FAILED';

/** A batch prediction job as GET /api/v2/batchPredictions/{id}/ answers it (the fields read here). */
export interface Job {
  id: string;
  status: JobStatus;
  percentageCompleted: number;
  scoredRows: number;
  failedRows: number;
  jobIntakeSize: number | null;
  statusDetails: string;
  monitoringBatchId: string | null;
  links: { self: string; csvUpload?: string; download?: string };
}

/** The job settings the CLI sends (POST /api/v2/batchPredictions/). */
export interface JobSpec {
  deploymentId: string;
  intakeSettings: { type: 'localFile' };
  outputSettings: { type: 'localFile' };
  monitoringBatchPrefix?: string;
  passthroughColumns?: string[];
  passthroughColumnsSet?: 'all';
  numConcurrent?: number;
  chunkSize?: number | 'auto' | 'fixed' | 'dynamic';
}

/** A refusal of the server (its `message`), or a server that could not be reached (status null). */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
  ) {
    super(message);
  }

  /** Worth asking again: the server was unreachable, overloaded or failed. */
  get transient(): boolean {
    return this.status === null || this.status === 429 || this.status >= 500;
  }
}

/** The base URL of a server: `http://host:4000`, with or without a trailing `/` or `/api/v2`. */
export function baseUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ApiError(`not a URL: ${url}`, null);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new ApiError(`not an http(s) URL: ${url}`, null);
  return parsed
    .toString()
    .replace(/\/+$/, '')
    .replace(/\/api\/v2$/, '');
}

export class BatchlensApi {
  readonly base: string;

  constructor(
    url: string,
    private readonly token: string,
  ) {
    this.base = baseUrl(url);
  }

  /** A request; answers the Response of a 2xx, throws ApiError for anything else. */
  async request(
    method: string,
    url: string,
    options: { json?: unknown; body?: AsyncIterable<Uint8Array>; contentType?: string; signal?: AbortSignal } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}`, accept: 'application/json' };
    let body: string | AsyncIterable<Uint8Array> | undefined;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers['content-type'] = 'application/json';
    } else if (options.body) {
      body = options.body;
      headers['content-type'] = options.contentType ?? 'application/octet-stream';
    }
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers,
        // Node's fetch (undici) streams an async iterable body; it needs duplex 'half' to do so.
        body: body as BodyInit | undefined,
        ...(options.body ? { duplex: 'half' } : {}),
        signal: options.signal,
      } as RequestInit);
    } catch (error) {
      if (options.signal?.aborted) throw error;
      throw new ApiError(`cannot reach ${new URL(url).origin}: ${causeOf(error)}`, null);
    }
    if (response.ok) return response;
    throw new ApiError(await errorMessage(response), response.status);
  }

  async json<T>(method: string, url: string, options: Parameters<BatchlensApi['request']>[2] = {}): Promise<T> {
    const response = await this.request(method, url, options);
    try {
      return (await response.json()) as T;
    } catch (error) {
      if (options.signal?.aborted) throw error;
      throw new ApiError(`${method} ${url}: the answer is not JSON (${causeOf(error)})`, response.status);
    }
  }

  url(path: string): string {
    return `${this.base}${path}`;
  }

  createJob(spec: JobSpec, signal?: AbortSignal): Promise<Job> {
    return this.json<Job>('POST', this.url('/api/v2/batchPredictions/'), { json: spec, signal });
  }

  uploadCsv(url: string, body: AsyncIterable<Uint8Array>, signal?: AbortSignal): Promise<Job> {
    return this.json<Job>('PUT', url, { body, contentType: 'text/csv', signal });
  }

  getJob(id: string, signal?: AbortSignal): Promise<Job> {
    return this.json<Job>('GET', this.url(`/api/v2/batchPredictions/${encodeURIComponent(id)}/`), { signal });
  }

  /** DELETE: aborts a job that is waiting or running (a finished one would lose its input and output). */
  abortJob(id: string, signal?: AbortSignal): Promise<Job> {
    return this.json<Job>('DELETE', this.url(`/api/v2/batchPredictions/${encodeURIComponent(id)}/`), { signal });
  }

  download(url: string, signal?: AbortSignal): Promise<Response> {
    return this.request('GET', url, { signal });
  }

  /** A monitoring batch's name (for the summary). */
  async batchName(deploymentId: string, batchId: string, signal?: AbortSignal): Promise<string> {
    const batch = await this.json<{ batchName: string }>(
      'GET',
      this.url(`/api/v2/deployments/${encodeURIComponent(deploymentId)}/monitoringBatches/${encodeURIComponent(batchId)}/`),
      { signal },
    );
    return batch.batchName;
  }
}

/** The server's `{message}` (DataRobot's error shape), else the status and the start of the body. */
async function errorMessage(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { message?: unknown };
    if (typeof body.message === 'string' && body.message) return body.message;
  } catch {
    // not JSON: said below
  }
  const snippet = text.trim().slice(0, 200);
  return `HTTP ${response.status} ${response.statusText}${snippet ? `: ${snippet}` : ''}`;
}

/** What went wrong under fetch's "fetch failed": ECONNREFUSED and the like. */
function causeOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error ? cause.message : error.message;
}
