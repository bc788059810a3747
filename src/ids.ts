import { randomBytes } from 'node:crypto';

/** Type prefixes of our opaque ids; node(id) reads the type from the prefix. */
export const idPrefixes = {
  Organization: 'org',
  User: 'usr',
  ApiToken: 'tok',
  Deployment: 'dep',
  MonitoringBatch: 'mb',
  BatchPredictionJob: 'job',
  BatchPredictionJobDefinition: 'jobdef',
  CustomMetric: 'cm',
  DataExport: 'exp',
} as const;

export type IdType = keyof typeof idPrefixes;

export function newId(type: IdType): string {
  return `${idPrefixes[type]}_${randomBytes(12).toString('hex')}`;
}

export function idType(id: string): IdType | undefined {
  const prefix = id.slice(0, id.indexOf('_'));
  return (Object.keys(idPrefixes) as IdType[]).find((type) => idPrefixes[type] === prefix);
}
