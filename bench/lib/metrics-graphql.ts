import http from 'node:http';

/** The three monitoring fields timed by bench/metrics, asked as a dashboard would (every field of each). */
export type FieldName = 'serviceHealth' | 'dataDrift' | 'accuracy';
export const FIELDS: FieldName[] = ['serviceHealth', 'dataDrift', 'accuracy'];
/** What is timed: each field alone, and `combined` = the three in one request (a dashboard's first load). */
export type MetricName = FieldName | 'combined';
export const METRICS: MetricName[] = [...FIELDS, 'combined'];

const BINS = 'bins { label lower upper count share }';
const FEATURE_DRIFT = `name score importance sampleSize isDrifted baseline { ${BINS} } current { ${BINS} }`;

const SELECTIONS: Record<FieldName, string> = {
  serviceHealth: `serviceHealth(batches: $s) {
    batchCount totalPredictions totalRequests userErrorRate serverErrorRate numConsumers slowRequests(thresholdMs: 100)
    executionTime { count mean median p90 min max q99: quantile(q: 0.99) } }`,
  dataDrift: `dataDrift(batches: $s, metric: PSI) {
    batchCount metric driftThreshold hasBaseline features { ${FEATURE_DRIFT} } target { ${FEATURE_DRIFT} } }`,
  // Every field for every target type: the ones a target type does not have are null.
  accuracy: `accuracy(batches: $s) {
    batchCount predictionsWithActuals logLoss auc accuracy f1 tpr ppv rmse mae r2 mape }`,
};

const query = (fields: FieldName[]) =>
  `query ($id: ID!, $s: BatchSelection!) { deployment(id: $id) { ${fields.map((f) => SELECTIONS[f]).join('\n    ')} } }`;

export const QUERIES: Record<MetricName, string> = {
  serviceHealth: query(['serviceHealth']),
  dataDrift: query(['dataDrift']),
  accuracy: query(['accuracy']),
  combined: query(FIELDS),
};

/** The floor under every answer: HTTP, auth, GraphQL and the deployment lookup, no metric. */
export const FLOOR_QUERY = `query ($id: ID!) { deployment(id: $id) { id } }`;

export type Selection = { last: number } | { batchIds: string[] };

/**
 * A GraphQL client for latency: one keep-alive connection (as a dashboard's browser tab would
 * have), the body sent with content-length, the whole answer read and parsed. `ms` is from the
 * request's start to the parsed answer.
 */
export class GraphQLTimer {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  private readonly endpoint: URL;

  constructor(
    url: string,
    private readonly token: string,
  ) {
    this.endpoint = new URL('/graphql', url);
  }

  async post(query: string, variables: unknown): Promise<{ ms: number; bytes: number; data: Record<string, unknown> }> {
    const payload = Buffer.from(JSON.stringify({ query, variables }));
    const started = performance.now();
    const text = await new Promise<Buffer>((resolve, reject) => {
      const req = http.request(this.endpoint, {
        method: 'POST',
        agent: this.agent,
        headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json', 'content-length': payload.length },
      });
      req.once('error', reject);
      req.once('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.once('error', reject);
        res.once('end', () => resolve(Buffer.concat(chunks)));
      });
      req.end(payload);
    });
    const body = JSON.parse(text.toString('utf8')) as { data?: Record<string, unknown>; errors?: unknown[] };
    const ms = performance.now() - started;
    if (body.errors?.length || !body.data) throw new Error(`GraphQL failed: ${text.toString('utf8').slice(0, 2000)}`);
    return { ms, bytes: text.length, data: body.data };
  }

  /**
   * One monitoring field over a selection (or, for `combined`, the three in one request); returns
   * the field's value (`combined`: the deployment object, holding the three).
   */
  async metric(
    metric: MetricName,
    deploymentId: string,
    selection: Selection,
  ): Promise<{ ms: number; bytes: number; value: Record<string, unknown> }> {
    const { ms, bytes, data } = await this.post(QUERIES[metric], { id: deploymentId, s: selection });
    const deployment = data.deployment as Record<string, unknown> | null;
    const value = (metric === 'combined' ? deployment : deployment?.[metric]) as Record<string, unknown> | undefined;
    if (!value) throw new Error(`no ${metric} in ${JSON.stringify(data).slice(0, 500)}`);
    return { ms, bytes, value };
  }

  close(): void {
    this.agent.destroy();
  }
}
