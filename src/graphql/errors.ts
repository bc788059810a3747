import type { ObjectRef, UnionRef } from '@pothos/core';
import { GraphQLError } from 'graphql';
import {
  type BatchLockedError,
  type BatchMonitoringDisabledError,
  type BatchNotSealedError,
  type BatchQuota,
  type BatchQuotaExceededError,
  type ConflictError,
  DomainError,
  type FieldError,
  type ForbiddenError,
  type JobStateError,
  type ModelBackendError,
  type NotFoundError,
  ValidationError,
} from '../errors.js';
import { builder, type SchemaTypes } from './builder.js';

// The GraphQL side of src/errors.ts: one type per expected failure, all implementing `Error`.

export const ErrorInterface = builder.interfaceRef<DomainError>('Error').implement({
  description: 'An expected failure. Every mutation result union includes the errors it can return.',
  fields: (t) => ({ message: t.exposeString('message', { description: 'What went wrong, for people.' }) }),
});

export const BatchQuotaRef = builder.objectRef<BatchQuota>('BatchQuota').implement({
  description: "A deployment's daily batch quota (UTC day).",
  fields: (t) => ({
    used: t.exposeInt('used', { description: 'Batches created today (deleted ones included: deleting does not refund).' }),
    limit: t.exposeInt('limit', { nullable: true, description: 'Batches allowed per day; null = unlimited.' }),
    remaining: t.exposeInt('remaining', { nullable: true, description: 'Batches that can still be created today; null = unlimited.' }),
    resetsAt: t.expose('resetsAt', { type: 'DateTime', description: 'Next UTC midnight, when `used` starts again from 0.' }),
  }),
});

const FieldErrorRef = builder.objectRef<FieldError>('FieldError').implement({
  fields: (t) => ({
    field: t.exposeString('field', { description: 'Dotted path of the input field at fault, e.g. `name` or `features.2.name`.' }),
    message: t.exposeString('message'),
  }),
});

export const NotFoundErrorRef = builder.objectRef<NotFoundError>('NotFoundError').implement({
  description: 'The id does not exist, was deleted, or belongs to another organization (these look the same).',
  interfaces: [ErrorInterface],
  fields: (t) => ({ resource: t.exposeString('resource', { description: 'Type of the missing thing, e.g. `MonitoringBatch`.' }) }),
});

export const ValidationErrorRef = builder.objectRef<ValidationError>('ValidationError').implement({
  description: 'The input broke a rule; `fieldErrors` names each field at fault.',
  interfaces: [ErrorInterface],
  fields: (t) => ({ fieldErrors: t.field({ type: [FieldErrorRef], resolve: (error) => error.fieldErrors }) }),
});

export const BatchQuotaExceededErrorRef = builder.objectRef<BatchQuotaExceededError>('BatchQuotaExceededError').implement({
  description: "The deployment's daily batch limit is used up.",
  interfaces: [ErrorInterface],
  fields: (t) => ({
    resetsAt: t.field({ type: 'DateTime', description: 'When new batches can be created again.', resolve: (error) => error.resetsAt }),
    quota: t.field({ type: BatchQuotaRef, resolve: (error) => error.quota }),
  }),
});

export const BatchMonitoringDisabledErrorRef = builder.objectRef<BatchMonitoringDisabledError>('BatchMonitoringDisabledError').implement({
  description: 'The deployment does not have batch monitoring enabled (`updateDeploymentSettings(batchMonitoringEnabled: true)`).',
  interfaces: [ErrorInterface],
  fields: (t) => ({ deploymentId: t.exposeID('deploymentId') }),
});

export const BatchLockedErrorRef = builder.objectRef<BatchLockedError>('BatchLockedError').implement({
  description: 'The batch is locked and accepts no new predictions; unlock it first.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    batchId: t.exposeID('batchId'),
    batchField: t.string({
      nullable: true,
      description: 'The input field that named the batch, when the request names several (e.g. `buckets.3.batchId`).',
      resolve: (error) => error.field,
    }),
  }),
});

export const BatchNotSealedErrorRef = builder.objectRef<BatchNotSealedError>('BatchNotSealedError').implement({
  description: 'The batch has no seal: it was never locked, or was unlocked since. Locking seals it.',
  interfaces: [ErrorInterface],
  fields: (t) => ({ batchId: t.exposeID('batchId') }),
});

export const ForbiddenErrorRef = builder.objectRef<ForbiddenError>('ForbiddenError').implement({
  description: 'The caller is authenticated but not allowed to do this (e.g. not an admin).',
  interfaces: [ErrorInterface],
});

export const ConflictErrorRef = builder.objectRef<ConflictError>('ConflictError').implement({
  description: 'The input collides with something that exists, e.g. a name that must be unique in the organization.',
  interfaces: [ErrorInterface],
  fields: (t) => ({ field: t.exposeString('field', { description: 'Dotted path of the input field at fault, e.g. `name`.' }) }),
});

const ModelBackendFailureEnum = builder.enumType('ModelBackendFailure', {
  values: {
    NOT_CONFIGURED: { description: 'The deployment has no model backend.' },
    UNREACHABLE: { description: 'The backend could not be connected to.' },
    TIMEOUT: { description: "The backend did not answer within the deployment's timeoutMs." },
    HTTP_ERROR: { description: 'The backend answered with an HTTP error status (see `status`).' },
    MALFORMED_ANSWER: { description: 'The answer was not of the shape the protocol promises.' },
    NOT_READY: { description: 'The readiness check said the model is not ready.' },
    SCHEMA_MISMATCH: { description: "The model's metadata does not match the deployment's features." },
  } as const,
});

export const ModelBackendErrorRef = builder.objectRef<ModelBackendError>('ModelBackendError').implement({
  description: "The deployment's model backend failed, or there is none; `message` names the backend and what was wrong.",
  interfaces: [ErrorInterface],
  fields: (t) => ({
    failure: t.field({ type: ModelBackendFailureEnum, resolve: (error) => error.failure }),
    backend: t.exposeString('backend', { nullable: true, description: 'Protocol and URL of the backend.' }),
    status: t.exposeInt('status', { nullable: true, description: "The backend's HTTP status, for HTTP_ERROR." }),
  }),
});

export const JobStateErrorRef = builder.objectRef<JobStateError>('JobStateError').implement({
  description: 'The batch prediction job is in a state that does not allow this (e.g. already finished).',
  interfaces: [ErrorInterface],
  fields: (t) => ({ jobId: t.exposeID('jobId'), status: t.exposeString('status') }),
});

const errorRefs = {
  NotFoundError: NotFoundErrorRef,
  ValidationError: ValidationErrorRef,
  BatchQuotaExceededError: BatchQuotaExceededErrorRef,
  BatchMonitoringDisabledError: BatchMonitoringDisabledErrorRef,
  BatchLockedError: BatchLockedErrorRef,
  BatchNotSealedError: BatchNotSealedErrorRef,
  ForbiddenError: ForbiddenErrorRef,
  ConflictError: ConflictErrorRef,
  ModelBackendError: ModelBackendErrorRef,
  JobStateError: JobStateErrorRef,
} as const;

export type ErrorTypeName = keyof typeof errorRefs;

/**
 * `<name> = <success> | <errors…>`: a mutation result. Resolvers return either the success shape
 * or the DomainError the service answered with.
 */
export function resultUnion<Success extends object>(name: string, success: ObjectRef<SchemaTypes, Success>, errors: ErrorTypeName[]) {
  const union = builder.unionType(name, {
    types: [success, ...errors.map((error) => errorRefs[error])],
    resolveType: (value) => (value instanceof DomainError ? value.typename : success.name),
  });
  return union as unknown as UnionRef<SchemaTypes, Success | DomainError>;
}

/**
 * For query fields, where a typed union would burden every read: an expected failure (a bad
 * cursor, a page too large) becomes a GraphQL error whose extensions carry the code and fields.
 */
export function orThrow<T>(result: T | DomainError): T {
  if (!(result instanceof DomainError)) return result;
  throw new GraphQLError(result.message, {
    extensions: {
      code: result instanceof ValidationError ? 'BAD_USER_INPUT' : result.code,
      ...(result instanceof ValidationError ? { fieldErrors: result.fieldErrors } : {}),
    },
  });
}
