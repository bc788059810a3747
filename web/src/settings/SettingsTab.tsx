import { useRef, useState } from 'preact/hooks';
import { useMutation, useQuery } from '../api/hooks';
import type { TabProps } from '../app/tabs';
import { ErrorNote, Loading } from '../app/ui';
import {
  type AccuracyMetric,
  type DeploymentHeaderFragment,
  SettingsTabDeploymentDocument,
  type SettingsTabDeploymentFragment,
  SettingsTabUpdateDeploymentDocument,
  SettingsTabUpdateHealthDocument,
  type UpdateHealthSettingsInput,
} from '../generated/graphql';
import { type FieldErrors, focusFirstError, sortFieldErrors } from './field-errors';
import { CheckboxField, ChecklistField, SelectField, TextField } from './fields';

// Settings (C2, C9): the deployment's label, description, threshold and BATCH badge, and its
// health rules. The API validates; its ValidationError names the field, shown under that field.
// The page checks only what GraphQL itself would refuse before the service sees it (a number
// that is not one, a fraction where the schema says Int).

/** The API's choices of batchCount (health.ts BATCH_COUNT_CHOICES). */
const BATCH_COUNTS = [1, 5, 10, 50, 100, 1000, 10000];
const BATCH_COUNT_OPTIONS = BATCH_COUNTS.map((n) => ({ value: String(n), label: `last ${n.toLocaleString('en-US')} batches` }));

const METRIC_TEXT: Record<AccuracyMetric, string> = {
  LOG_LOSS: 'Log loss',
  AUC: 'AUC',
  ACCURACY: 'Accuracy',
  F1: 'F1',
  TPR: 'True positive rate',
  PPV: 'Precision (PPV)',
  RMSE: 'RMSE',
  MAE: 'MAE',
  R2: 'R²',
  MAPE: 'MAPE',
};
const METRICS_OF: Record<SettingsTabDeploymentFragment['targetType'], AccuracyMetric[]> = {
  REGRESSION: ['RMSE', 'MAE', 'R2', 'MAPE'],
  BINARY: ['LOG_LOSS', 'AUC', 'ACCURACY', 'F1', 'TPR', 'PPV'],
  MULTICLASS: ['LOG_LOSS', 'ACCURACY'],
};

const text = (value: number | null | undefined) => (value === null || value === undefined ? '' : String(value));

/** A form's number: required, or null when left empty; an error message when it is not a number. */
function parseNumber(value: string, options: { integer?: boolean; nullable?: boolean }): number | null | string {
  const trimmed = value.trim();
  if (!trimmed) return options.nullable ? null : 'Enter a number.';
  const number = Number(trimmed);
  if (!Number.isFinite(number)) return options.nullable ? 'Enter a number, or leave it empty.' : 'Enter a number.';
  if (options.integer && !Number.isInteger(number)) return 'Enter a whole number.';
  return number;
}

/** Reads each field with `parse`; collects the messages of those that are not numbers. */
function numbersOf<K extends string>(
  draft: Readonly<Record<K, string>>,
  rules: Record<K, { integer?: boolean; nullable?: boolean }>,
): { values: Record<K, number | null>; errors: FieldErrors } {
  const values = {} as Record<K, number | null>;
  const errors: FieldErrors = {};
  for (const field of Object.keys(rules) as K[]) {
    const parsed = parseNumber(draft[field], rules[field]);
    if (typeof parsed === 'string') errors[field] = parsed;
    else values[field] = parsed;
  }
  return { values, errors };
}

export function SettingsTab({ deployment, reloadDeployment }: TabProps) {
  const { data, error, loading, refetch } = useQuery(SettingsTabDeploymentDocument, { id: deployment.id });
  if (!data) return loading ? <Loading /> : <ErrorNote error={error} />;
  const settings = data.deployment;
  if (!settings) return <ErrorNote error="This deployment no longer exists." />;
  return (
    <div class="settings-tab">
      <GeneralSettings
        settings={settings}
        onSaved={() => {
          // The header (label, BATCH badge) comes from the deployment page's query.
          reloadDeployment();
          refetch();
        }}
      />
      <HealthSettingsForm settings={settings} features={deployment.features} />
    </div>
  );
}

const GENERAL_FIELDS = ['label', 'description', 'predictionThreshold', 'associationIdColumn', 'batchMonitoringEnabled'] as const;

function GeneralSettings({ settings, onSaved }: { settings: SettingsTabDeploymentFragment; onSaved: () => void }) {
  const form = useRef<HTMLFormElement>(null);
  const [label, setLabel] = useState(settings.label);
  const [description, setDescription] = useState(settings.description ?? '');
  const [threshold, setThreshold] = useState(String(settings.predictionThreshold));
  const [batchMonitoring, setBatchMonitoring] = useState(settings.batchMonitoringEnabled);
  const [associationIdColumn, setAssociationIdColumn] = useState(settings.associationIdColumn ?? '');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [refusal, setRefusal] = useState<string>();
  const [saved, setSaved] = useState('');
  const update = useMutation(SettingsTabUpdateDeploymentDocument);
  const binary = settings.targetType === 'BINARY';

  const fail = (fieldErrors: FieldErrors, message?: string) => {
    setErrors(fieldErrors);
    setRefusal(message);
    focusFirstError(form.current);
  };

  return (
    <form
      ref={form}
      class="settings-form"
      aria-labelledby="general-settings-title"
      noValidate
      onSubmit={async (event) => {
        event.preventDefault();
        // aria-disabled, not disabled, while saving: a disabled button would drop the keyboard focus.
        if (update.pending) return;
        setSaved('');
        const parsed = binary ? parseNumber(threshold, {}) : null;
        if (typeof parsed === 'string') return fail({ predictionThreshold: parsed });
        const answer = await update.run({
          input: {
            deploymentId: settings.id,
            label,
            description: description.trim() ? description : null,
            associationIdColumn: associationIdColumn.trim() ? associationIdColumn.trim() : null,
            batchMonitoringEnabled: batchMonitoring,
            ...(binary && parsed !== null ? { predictionThreshold: parsed } : {}),
          },
        });
        const result = answer?.updateDeploymentSettings;
        if (!result) return;
        if (result.__typename === 'UpdateDeploymentSettingsSuccess') {
          setErrors({});
          setRefusal(undefined);
          const stored = result.deployment;
          setLabel(stored.label);
          setDescription(stored.description ?? '');
          setThreshold(String(stored.predictionThreshold));
          setBatchMonitoring(stored.batchMonitoringEnabled);
          setAssociationIdColumn(stored.associationIdColumn ?? '');
          setSaved(`Settings saved. Batch monitoring is ${stored.batchMonitoringEnabled ? 'on' : 'off'}.`);
          onSaved();
        } else if (result.__typename === 'ValidationError') {
          const { byField, rest } = sortFieldErrors(result.fieldErrors, GENERAL_FIELDS);
          fail(byField, rest.length ? `${result.message} (${rest.join('; ')})` : Object.keys(byField).length ? undefined : result.message);
        } else {
          fail({}, result.message);
        }
      }}
    >
      <h2 id="general-settings-title">Deployment</h2>
      <TextField field="label" label="Label" value={label} onInput={setLabel} errors={errors} />
      <TextField field="description" label="Description" value={description} onInput={setDescription} errors={errors} multiline />
      {binary ? (
        <TextField
          field="predictionThreshold"
          label="Prediction threshold"
          value={threshold}
          onInput={setThreshold}
          errors={errors}
          inputMode="decimal"
          hint="A probability at or above it predicts the positive class (0 to 1)."
        />
      ) : null}
      <TextField
        field="associationIdColumn"
        label="Association id column"
        value={associationIdColumn}
        onInput={setAssociationIdColumn}
        errors={errors}
        hint="The input column a batch prediction job records as each prediction's association id, so actuals join its runs' predictions. Empty: none."
      />
      <CheckboxField
        field="batchMonitoringEnabled"
        label="Batch monitoring"
        checked={batchMonitoring}
        onChange={setBatchMonitoring}
        errors={errors}
        hint="The BATCH badge: batches can be created, and predictions, actuals and jobs recorded, only while it is on."
      />
      <ErrorNote error={refusal ?? update.error} />
      <div class="form-actions">
        <button type="submit" class="primary" aria-disabled={update.pending}>
          {update.pending ? 'Saving…' : 'Save deployment settings'}
        </button>
        <p role="status" class="status-message">
          {saved}
        </p>
      </div>
    </form>
  );
}

const NUMBER_RULES = {
  'service.errorRateAtRisk': {},
  'service.errorRateFailing': {},
  'dataDrift.driftThreshold': {},
  'dataDrift.importanceThreshold': {},
  'dataDrift.significanceLevel': {},
  'dataDrift.minSampleSize': { integer: true },
  'dataDrift.lowImportanceAtRiskCount': { integer: true, nullable: true },
  'dataDrift.lowImportanceFailingCount': { integer: true, nullable: true },
  'dataDrift.highImportanceAtRiskCount': { integer: true, nullable: true },
  'dataDrift.highImportanceFailingCount': { integer: true, nullable: true },
  'accuracy.atRiskThreshold': { nullable: true },
  'accuracy.failingThreshold': { nullable: true },
} as const;
type NumberField = keyof typeof NUMBER_RULES;
type ChoiceField = 'service.batchCount' | 'dataDrift.batchCount' | 'accuracy.batchCount' | 'accuracy.metric';
type HealthDraft = Record<NumberField | ChoiceField, string>;
const HEALTH_FIELDS = [
  ...Object.keys(NUMBER_RULES),
  'service.batchCount',
  'dataDrift.batchCount',
  'accuracy.batchCount',
  'accuracy.metric',
  'dataDrift.excludedFeatures',
];

function draftOf(settings: SettingsTabDeploymentFragment['healthSettings']): HealthDraft {
  const { service, dataDrift, accuracy } = settings;
  return {
    'service.batchCount': String(service.batchCount),
    'service.errorRateAtRisk': text(service.errorRateAtRisk),
    'service.errorRateFailing': text(service.errorRateFailing),
    'dataDrift.batchCount': String(dataDrift.batchCount),
    'dataDrift.driftThreshold': text(dataDrift.driftThreshold),
    'dataDrift.importanceThreshold': text(dataDrift.importanceThreshold),
    'dataDrift.significanceLevel': text(dataDrift.significanceLevel),
    'dataDrift.minSampleSize': text(dataDrift.minSampleSize),
    'dataDrift.lowImportanceAtRiskCount': text(dataDrift.lowImportanceAtRiskCount),
    'dataDrift.lowImportanceFailingCount': text(dataDrift.lowImportanceFailingCount),
    'dataDrift.highImportanceAtRiskCount': text(dataDrift.highImportanceAtRiskCount),
    'dataDrift.highImportanceFailingCount': text(dataDrift.highImportanceFailingCount),
    'accuracy.batchCount': String(accuracy.batchCount),
    'accuracy.metric': accuracy.metric,
    'accuracy.atRiskThreshold': text(accuracy.atRiskThreshold),
    'accuracy.failingThreshold': text(accuracy.failingThreshold),
  };
}

function HealthSettingsForm({
  settings,
  features,
}: {
  settings: SettingsTabDeploymentFragment;
  features: DeploymentHeaderFragment['features'];
}) {
  const form = useRef<HTMLFormElement>(null);
  const [draft, setDraft] = useState<HealthDraft>(() => draftOf(settings.healthSettings));
  const [excluded, setExcluded] = useState<string[]>(settings.healthSettings.dataDrift.excludedFeatures);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [refusal, setRefusal] = useState<string>();
  const [saved, setSaved] = useState('');
  const update = useMutation(SettingsTabUpdateHealthDocument);
  const stored = settings.healthSettings.accuracy.metric;
  const metrics = METRICS_OF[settings.targetType].includes(stored)
    ? METRICS_OF[settings.targetType]
    : [stored, ...METRICS_OF[settings.targetType]];

  const field = (name: NumberField, label: string, hint?: string) => (
    <TextField
      field={name}
      label={label}
      value={draft[name]}
      onInput={(value) => setDraft({ ...draft, [name]: value })}
      errors={errors}
      inputMode={'integer' in NUMBER_RULES[name] ? 'numeric' : 'decimal'}
      hint={hint}
    />
  );
  const batchCount = (name: ChoiceField, label: string) => (
    <SelectField
      field={name}
      label={label}
      value={draft[name]}
      options={BATCH_COUNT_OPTIONS}
      onChange={(value) => setDraft({ ...draft, [name]: value })}
      errors={errors}
    />
  );
  const fail = (fieldErrors: FieldErrors, message?: string) => {
    setErrors(fieldErrors);
    setRefusal(message);
    focusFirstError(form.current);
  };
  // Excluded names that are no longer features stay listed, so that saving keeps them visibly.
  const featureOptions = [
    ...features.map((feature) => ({
      value: feature.name,
      label: (
        <>
          {feature.name}{' '}
          <span class="muted small">({feature.importance === null ? 'no importance' : `importance ${feature.importance}`})</span>
        </>
      ),
    })),
    ...excluded
      .filter((name) => !features.some((feature) => feature.name === name))
      .map((name) => ({ value: name, label: <>{name} (not a feature)</> })),
  ];

  return (
    <form
      ref={form}
      class="settings-form"
      aria-labelledby="health-settings-title"
      noValidate
      onSubmit={async (event) => {
        event.preventDefault();
        // aria-disabled, not disabled, while saving: a disabled button would drop the keyboard focus.
        if (update.pending) return;
        setSaved('');
        const { values, errors: numberErrors } = numbersOf<NumberField>(draft, NUMBER_RULES);
        if (Object.keys(numberErrors).length) return fail(numberErrors);
        const input: UpdateHealthSettingsInput = {
          deploymentId: settings.id,
          service: {
            batchCount: Number(draft['service.batchCount']),
            errorRateAtRisk: values['service.errorRateAtRisk'],
            errorRateFailing: values['service.errorRateFailing'],
          },
          dataDrift: {
            batchCount: Number(draft['dataDrift.batchCount']),
            driftThreshold: values['dataDrift.driftThreshold'],
            importanceThreshold: values['dataDrift.importanceThreshold'],
            significanceLevel: values['dataDrift.significanceLevel'],
            minSampleSize: values['dataDrift.minSampleSize'],
            lowImportanceAtRiskCount: values['dataDrift.lowImportanceAtRiskCount'],
            lowImportanceFailingCount: values['dataDrift.lowImportanceFailingCount'],
            highImportanceAtRiskCount: values['dataDrift.highImportanceAtRiskCount'],
            highImportanceFailingCount: values['dataDrift.highImportanceFailingCount'],
            excludedFeatures: excluded,
          },
          accuracy: {
            batchCount: Number(draft['accuracy.batchCount']),
            metric: draft['accuracy.metric'] as AccuracyMetric,
            atRiskThreshold: values['accuracy.atRiskThreshold'],
            failingThreshold: values['accuracy.failingThreshold'],
          },
        };
        const answer = await update.run({ input });
        const result = answer?.updateHealthSettings;
        if (!result) return;
        if (result.__typename === 'UpdateHealthSettingsSuccess') {
          setErrors({});
          setRefusal(undefined);
          setDraft(draftOf(result.deployment.healthSettings));
          setExcluded(result.deployment.healthSettings.dataDrift.excludedFeatures);
          setSaved('Health settings saved.');
        } else if (result.__typename === 'ValidationError') {
          const { byField, rest } = sortFieldErrors(result.fieldErrors, HEALTH_FIELDS);
          fail(byField, rest.length ? `${result.message} (${rest.join('; ')})` : Object.keys(byField).length ? undefined : result.message);
        } else {
          fail({}, result.message);
        }
      }}
    >
      <h2 id="health-settings-title">Health rules</h2>
      <p class="hint">Each status is computed over the deployment's most recent batches.</p>
      <div class="settings-groups">
        <fieldset class="settings-group">
          <legend>Service health</legend>
          {batchCount('service.batchCount', 'Batches')}
          {field('service.errorRateAtRisk', 'At risk from error rate', 'User and server errors ÷ requests, 0 to 1.')}
          {field('service.errorRateFailing', 'Failing from error rate', '0 to 1.')}
        </fieldset>
        <fieldset class="settings-group">
          <legend>Data drift</legend>
          {batchCount('dataDrift.batchCount', 'Batches')}
          {field(
            'dataDrift.driftThreshold',
            'Drift threshold',
            'A feature has drifted when its PSI reaches this and the change is significant.',
          )}
          {field(
            'dataDrift.significanceLevel',
            'Significance level',
            'The false-discovery rate α, between 0 and 1: a change is significant when its adjusted p-value is at most this.',
          )}
          {field(
            'dataDrift.minSampleSize',
            'Minimum sample size',
            'Rows each side of a comparison needs (1 or more); with fewer, drift is “insufficient data”.',
          )}
          {field(
            'dataDrift.importanceThreshold',
            'Importance threshold',
            'Features of at least this importance (0 to 1) are of high importance.',
          )}
          {field('dataDrift.highImportanceAtRiskCount', 'At risk from drifted high-importance features', 'Empty: the rule is off.')}
          {field('dataDrift.highImportanceFailingCount', 'Failing from drifted high-importance features', 'Empty: the rule is off.')}
          {field('dataDrift.lowImportanceAtRiskCount', 'At risk from drifted low-importance features', 'Empty: the rule is off.')}
          {field('dataDrift.lowImportanceFailingCount', 'Failing from drifted low-importance features', 'Empty: the rule is off.')}
          <ChecklistField
            field="dataDrift.excludedFeatures"
            legend="Excluded features"
            hint="Their drift does not count."
            options={featureOptions}
            checked={excluded}
            onChange={setExcluded}
            errors={errors}
          />
        </fieldset>
        <fieldset class="settings-group">
          <legend>Accuracy</legend>
          {batchCount('accuracy.batchCount', 'Batches')}
          <SelectField
            field="accuracy.metric"
            label="Metric"
            value={draft['accuracy.metric']}
            options={metrics.map((metric) => ({ value: metric, label: METRIC_TEXT[metric] }))}
            onChange={(value) => setDraft({ ...draft, 'accuracy.metric': value })}
            errors={errors}
          />
          {field(
            'accuracy.atRiskThreshold',
            'At risk threshold',
            'The metric’s value at which accuracy is at risk. Empty: accuracy stays unknown.',
          )}
          {field('accuracy.failingThreshold', 'Failing threshold', 'The metric’s value at which accuracy is failing.')}
        </fieldset>
      </div>
      <ErrorNote error={refusal ?? update.error} />
      <div class="form-actions">
        <button type="submit" class="primary" aria-disabled={update.pending}>
          {update.pending ? 'Saving…' : 'Save health settings'}
        </button>
        <p role="status" class="status-message">
          {saved}
        </p>
      </div>
    </form>
  );
}
