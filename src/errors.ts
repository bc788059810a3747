/**
 * Expected failures. Services return these (never throw them); GraphQL exposes each as a type in a
 * result union, REST maps each to a status code. Anything thrown instead is a bug and answers 500.
 */
export abstract class DomainError {
  abstract readonly code: string;
  /** The GraphQL type that exposes this error. */
  abstract readonly typename: string;
  constructor(readonly message: string) {}
}

export class NotFoundError extends DomainError {
  readonly typename = 'NotFoundError';
  readonly code = 'NOT_FOUND';
  constructor(
    readonly resource:
      | 'Organization'
      | 'User'
      | 'ApiToken'
      | 'Deployment'
      | 'MonitoringBatch'
      | 'BatchPredictionJob'
      | 'BatchPredictionJobDefinition'
      | 'DataExport'
      | 'CustomMetric',
    message = `${resource === 'MonitoringBatch' ? 'Monitoring batch' : resource.replace(/([a-z])([A-Z])/g, '$1 $2')} not found`,
  ) {
    super(message);
  }
}

export interface FieldError {
  /** Dotted path of the input field at fault, e.g. `name` or `features.2.name`. */
  field: string;
  message: string;
}

export class ValidationError extends DomainError {
  readonly typename = 'ValidationError';
  readonly code = 'VALIDATION';
  constructor(readonly fieldErrors: FieldError[]) {
    super(`Invalid input: ${fieldErrors.map((e) => `${e.field}: ${e.message}`).join('; ')}`);
  }
  static of(field: string, message: string): ValidationError {
    return new ValidationError([{ field, message }]);
  }
}

export interface BatchQuota {
  used: number;
  /** null = unlimited. */
  limit: number | null;
  remaining: number | null;
  resetsAt: Date;
}

export class BatchQuotaExceededError extends DomainError {
  readonly typename = 'BatchQuotaExceededError';
  readonly code = 'BATCH_QUOTA_EXCEEDED';
  constructor(readonly quota: BatchQuota) {
    super(`Daily batch limit of ${quota.limit} reached for this deployment; it resets at ${quota.resetsAt.toISOString()}`);
  }
  get resetsAt(): Date {
    return this.quota.resetsAt;
  }
}

export class BatchMonitoringDisabledError extends DomainError {
  readonly typename = 'BatchMonitoringDisabledError';
  readonly code = 'BATCH_MONITORING_DISABLED';
  constructor(readonly deploymentId: string) {
    super('Batch monitoring is not enabled on this deployment; enable settings.batchMonitoring first');
  }
}

export class BatchLockedError extends DomainError {
  readonly typename = 'BatchLockedError';
  readonly code = 'BATCH_LOCKED';
  constructor(
    readonly batchId: string,
    /** The input field that named the batch, when a request names several (e.g. `buckets.3.batch`). */
    readonly field: string | null = null,
    message = 'Monitoring batch is locked and accepts no new predictions',
  ) {
    super(message);
  }
}

/** The batch has no seal to verify: it was never locked, or was unlocked since (unlocking clears the seal). */
export class BatchNotSealedError extends DomainError {
  readonly typename = 'BatchNotSealedError';
  readonly code = 'BATCH_NOT_SEALED';
  constructor(readonly batchId: string) {
    super('Monitoring batch is not sealed: lock it to seal it');
  }
}

/** The input collides with something that exists (e.g. a name that must be unique); names the field. */
export class ConflictError extends DomainError {
  readonly typename = 'ConflictError';
  readonly code = 'CONFLICT';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

export class ForbiddenError extends DomainError {
  readonly typename = 'ForbiddenError';
  readonly code = 'FORBIDDEN';
}

/** Why a model backend could not give an answer. */
export type ModelBackendFailure =
  | 'NOT_CONFIGURED'
  | 'UNREACHABLE'
  | 'TIMEOUT'
  | 'HTTP_ERROR'
  | 'MALFORMED_ANSWER'
  | 'NOT_READY'
  | 'SCHEMA_MISMATCH';

/** The deployment's model backend failed (or there is none): names the backend and what was wrong. */
export class ModelBackendError extends DomainError {
  readonly typename = 'ModelBackendError';
  readonly code = 'MODEL_BACKEND';
  constructor(
    readonly failure: ModelBackendFailure,
    /** `OPEN_INFERENCE_V2 http://host/v2/models/m` or `MLFLOW http://host`; null when there is none. */
    readonly backend: string | null,
    message: string,
    /** The backend's HTTP status, for HTTP_ERROR. */
    readonly status: number | null = null,
  ) {
    super(backend ? `Model backend ${backend}: ${message}` : message);
  }
}

/** The job is already finished (or its input is already in) and cannot take this action. */
export class JobStateError extends DomainError {
  readonly typename = 'JobStateError';
  readonly code = 'JOB_STATE';
  constructor(
    readonly jobId: string,
    readonly status: string,
    message: string,
  ) {
    super(message);
  }
}

export type Result<T> = T | DomainError;

export function isError<T>(result: Result<T>): result is DomainError {
  return result instanceof DomainError;
}

/** How many bad rows one refusal names (a large upload with a systematic mistake would name millions). */
export const MAX_ROW_ERRORS = 20;
