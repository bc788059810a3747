import { builder } from '../../graphql/builder.js';

export const HEALTH_STATUSES = ['PASSING', 'AT_RISK', 'FAILING', 'UNKNOWN'] as const;

export const HealthStatusEnum = builder.enumType('HealthStatus', { values: HEALTH_STATUSES });

export const HealthFilterInput = builder.inputType('DeploymentHealthFilter', {
  description: 'Keeps deployments whose status is one of those listed, for each area given.',
  fields: (t) => ({
    service: t.field({ type: [HealthStatusEnum] }),
    drift: t.field({ type: [HealthStatusEnum] }),
    accuracy: t.field({ type: [HealthStatusEnum] }),
  }),
});
