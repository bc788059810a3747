import http from 'node:http';

export interface UploadResult {
  status: number;
  /** The response body, parsed as JSON when it is JSON. */
  body: unknown;
  /** From the first byte sent to the whole response read. */
  ms: number;
  bytes: number;
}

/**
 * POSTs (or PUTs, `method`) a streamed body (chunked transfer encoding) with backpressure: the
 * generator is pulled only as fast as the server reads. If the server answers before the body is
 * complete (an error), sending stops and the answer is returned.
 */
export async function postStream(
  url: string,
  options: { token: string; contentType: string; body: AsyncIterable<Buffer>; method?: 'POST' | 'PUT' },
): Promise<UploadResult> {
  const started = performance.now();
  let bytes = 0;
  const req = http.request(url, {
    method: options.method ?? 'POST',
    agent: false,
    headers: { authorization: `Bearer ${options.token}`, 'content-type': options.contentType },
  });
  let answered = false;
  let failure: Error | undefined;
  const response = new Promise<UploadResult>((resolve, reject) => {
    // A server that answers early may reset the connection while we still send: keep its answer.
    req.on('error', (error) => {
      failure ??= error;
      if (!answered) reject(error);
    });
    req.once('response', (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.once('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // not JSON: keep the text
        }
        resolve({ status: res.statusCode ?? 0, body, ms: performance.now() - started, bytes });
      });
    });
  });
  response.catch(() => {});
  try {
    for await (const chunk of options.body) {
      if (answered || req.destroyed) break;
      bytes += chunk.length;
      if (!req.write(chunk)) {
        await new Promise<void>((resolve) => {
          const done = () => {
            req.off('drain', done);
            req.off('close', done);
            resolve();
          };
          req.on('drain', done);
          req.on('close', done);
        });
      }
    }
  } finally {
    if (!req.destroyed) req.end();
  }
  return response.catch((error: unknown) => {
    throw new Error(`upload failed after ${bytes} bytes sent: ${String(failure ?? error)}`);
  });
}
