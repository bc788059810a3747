import type { Deployment } from '../../db/tables.js';
import { parseNdjson } from '../../formats/ndjson.js';
import { countIngestBytes } from '../../observability/metrics.js';
import { limitedBody } from '../../rest/body.js';
import { HttpError, type RestRequest } from '../../rest/kit.js';
import { parseCsv } from './csv.js';
import { targetShape } from './shape.js';

// Reading a streamed upload of prediction rows (bulk predictions, training baselines).

export /** A streamed NDJSON or CSV upload as parsed items (its size checked while it streams); 415 for other types. */
function uploadItems(req: RestRequest, deployment: Deployment) {
  const type = (req.raw.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const ndjson = type === 'application/x-ndjson' || type === 'application/ndjson' || type === 'application/jsonl';
  if (!ndjson && type !== 'text/csv') {
    throw new HttpError(415, `Content-Type must be application/x-ndjson or text/csv, got ${type || 'none'}`);
  }
  const body = counted(limitedBody(req.raw, req.ctx.app.config.maxUploadBytes));
  return ndjson ? parseNdjson(body) : parseCsv(body, targetShape(deployment));
}

/** The upload's chunks, their bytes added to the ingest-bytes metric once it ends (however it ends). */
async function* counted(chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let bytes = 0;
  try {
    for await (const chunk of chunks) {
      bytes += chunk.length;
      yield chunk;
    }
  } finally {
    countIngestBytes(bytes);
  }
}
