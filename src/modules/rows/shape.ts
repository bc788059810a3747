import type { Deployment, FeatureDefinition } from '../../db/tables.js';

/** What a prediction row must look like for a deployment: its target and its features. */
export interface TargetShape {
  targetType: 'BINARY' | 'MULTICLASS' | 'REGRESSION';
  /** Binary: exactly 2, multiclass: ≥ 2, regression: null. */
  classNames: string[] | null;
  /** Binary only. */
  positiveClass: string | null;
  /** Binary: the label is positiveClass when p(positive) >= threshold. */
  predictionThreshold: number;
  features: FeatureDefinition[];
}

export function targetShape(deployment: Deployment): TargetShape {
  return {
    targetType: deployment.targetType,
    classNames: deployment.classNames,
    positiveClass: deployment.positiveClass,
    predictionThreshold: deployment.predictionThreshold,
    features: deployment.features,
  };
}
