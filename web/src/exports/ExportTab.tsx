import { useState } from 'preact/hooks';
import type { ApiError } from '../api/client';
import { downloadWithToken } from '../api/download';
import { useMutation, useQuery, useSubscription } from '../api/hooks';
import { formatCount, formatTime } from '../app/format';
import { href, navigate } from '../app/router';
import type { TabProps } from '../app/tabs';
import { ErrorNote, Loading } from '../app/ui';
import {
  type DataExportFormat,
  ExportTabCreateDocument,
  ExportTabExportDocument,
  type ExportTabExportFragment,
  ExportTabExportsDocument,
  ExportTabProgressDocument,
} from '../generated/graphql';
import { type BatchSelection, BatchSelector, DEFAULT_SELECTION } from '../selection/BatchSelector';

// Data Export (C12): start an export of a batch selection, follow it live, download the file.
// `#/deployments/<id>/export/<exportId>` follows one export.

const FINAL = new Set(['SUCCEEDED', 'FAILED']);
const STATUS_TEXT: Record<ExportTabExportFragment['status'], string> = {
  CREATED: 'Waiting',
  RUNNING: 'Running',
  SUCCEEDED: 'Succeeded',
  FAILED: 'Failed',
};

export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined) return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

/** `<label>-<export id>.csv`: the file says which deployment it is of. */
function exportFileName(label: string, exp: ExportTabExportFragment): string {
  const slug = label
    .normalize('NFKD')
    .replace(/[^\w.-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60);
  return `${slug || 'deployment'}-${exp.id}.${exp.format === 'PARQUET' ? 'parquet' : 'csv'}`;
}

export function ExportTab({ deployment, itemId: exportId }: TabProps) {
  const exports = useQuery(ExportTabExportsDocument, { deploymentId: deployment.id });
  const [downloaded, setDownloaded] = useState('');
  const [downloadError, setDownloadError] = useState<ApiError | string>();

  const download = async (exp: ExportTabExportFragment) => {
    if (!exp.downloadUrl) return;
    setDownloadError(undefined);
    setDownloaded('');
    try {
      const name = await downloadWithToken(exp.downloadUrl, exportFileName(deployment.label, exp));
      setDownloaded(`Downloaded ${name}.`);
    } catch (caught) {
      setDownloadError(caught as ApiError);
      // An export that expired meanwhile: the list shows it so.
      exports.refetch();
    }
  };

  return (
    <div class="export-tab">
      <h2>Export predictions</h2>
      <StartExport deploymentId={deployment.id} onStarted={exports.refetch} />
      {exportId ? (
        <CurrentExport key={exportId} deploymentId={deployment.id} exportId={exportId} onFinished={exports.refetch} onDownload={download} />
      ) : null}
      <p role="status" class="status-message">
        {downloaded}
      </p>
      <ErrorNote error={downloadError} />
      <h2>Recent exports</h2>
      <ErrorNote error={exports.error} />
      {!exports.data && exports.loading ? <Loading /> : null}
      {exports.data?.deployment ? (
        <ExportList exports={exports.data.deployment.dataExports} deploymentId={deployment.id} currentId={exportId} onDownload={download} />
      ) : null}
    </div>
  );
}

function StartExport({ deploymentId, onStarted }: { deploymentId: string; onStarted: () => void }) {
  const [selection, setSelection] = useState<BatchSelection>(DEFAULT_SELECTION);
  const [format, setFormat] = useState<DataExportFormat>('CSV');
  const [includeActuals, setIncludeActuals] = useState(false);
  const [refusal, setRefusal] = useState<{ message: string; fieldErrors: { field: string; message: string }[] }>();
  const create = useMutation(ExportTabCreateDocument);
  return (
    <section class="export-form" aria-label="Start an export">
      {/* The selector stays outside the form: its own buttons and fields must not submit the export. */}
      <BatchSelector deploymentId={deploymentId} selection={selection} onChange={setSelection} />
      <form
        onSubmit={async (event) => {
          event.preventDefault();
          if (create.pending) return;
          setRefusal(undefined);
          const answer = await create.run({ input: { deploymentId, selection, format, includeActuals } });
          const result = answer?.createDataExport;
          if (!result) return;
          if (result.__typename === 'CreateDataExportSuccess') {
            onStarted();
            navigate({ page: 'deployment', deploymentId, tab: 'export', itemId: result.export.id });
          } else {
            setRefusal({ message: result.message, fieldErrors: result.__typename === 'ValidationError' ? result.fieldErrors : [] });
          }
        }}
      >
        <div class="export-options">
          <fieldset>
            <legend>Format</legend>
            <label>
              <input type="radio" name="export-format" value="CSV" checked={format === 'CSV'} onChange={() => setFormat('CSV')} /> CSV
            </label>
            <label>
              <input
                type="radio"
                name="export-format"
                value="PARQUET"
                checked={format === 'PARQUET'}
                onChange={() => setFormat('PARQUET')}
              />{' '}
              Parquet
            </label>
          </fieldset>
          <label>
            <input type="checkbox" checked={includeActuals} onChange={(event) => setIncludeActuals(event.currentTarget.checked)} /> Include
            actuals
          </label>
          {/* aria-disabled, not disabled: a disabled button would drop the keyboard focus. */}
          <button type="submit" class="primary" aria-disabled={create.pending}>
            {create.pending ? 'Starting…' : 'Start export'}
          </button>
        </div>
        <ErrorNote error={create.error} />
        {refusal ? (
          <div class="error" role="alert">
            <p>{refusal.message}</p>
            {refusal.fieldErrors.length ? (
              <ul>
                {refusal.fieldErrors.map((fieldError) => (
                  <li key={fieldError.field}>
                    <code>{fieldError.field}</code>: {fieldError.message}
                  </li>
                ))}
              </ul>
            ) : null}
          </div>
        ) : null}
      </form>
    </section>
  );
}

/** The export of the route, followed live until it is final. */
function CurrentExport({
  deploymentId,
  exportId,
  onFinished,
  onDownload,
}: {
  deploymentId: string;
  exportId: string;
  onFinished: () => void;
  onDownload: (exp: ExportTabExportFragment) => void;
}) {
  const query = useQuery(ExportTabExportDocument, { id: exportId });
  const [live, setLive] = useState<ExportTabExportFragment>();
  const stored = query.data?.dataExport;
  // Another deployment's export (of this organization) is not this tab's: shown as missing, as a foreign one is.
  const found = stored && stored.deployment?.id === deploymentId ? stored : undefined;
  const exp = live ?? found;
  const liveError = useSubscription(
    ExportTabProgressDocument,
    { id: exportId },
    (data) => {
      setLive(data.dataExportProgress);
      if (FINAL.has(data.dataExportProgress.status)) onFinished();
    },
    { skip: !found || FINAL.has(found.status) },
  );
  if (!query.data) return query.loading ? <Loading /> : <ErrorNote error={query.error} />;
  if (!exp) {
    return (
      <section class="current-export" aria-labelledby="current-export-title">
        <h2 id="current-export-title">Export not found</h2>
        <p>
          No export <code>{exportId}</code> in this deployment.{' '}
          <a href={href({ page: 'deployment', deploymentId, tab: 'export' })}>All exports</a>
        </p>
      </section>
    );
  }
  const total = exp.rowCount ?? 0;
  return (
    <section class="current-export" aria-labelledby="current-export-title">
      <h2 id="current-export-title">
        Export <code>{exp.id}</code>
      </h2>
      <p aria-live="polite">
        <span class={`export-status status-${exp.status.toLowerCase()}`}>{STATUS_TEXT[exp.status]}</span> · {exp.format} · {exp.batchCount}{' '}
        {exp.batchCount === 1 ? 'batch' : 'batches'}
        {exp.includeActuals ? ' · with actuals' : ''}
      </p>
      <label class="progress-line">
        <span>
          {formatCount(exp.rowsWritten)} of {exp.rowCount === null ? '?' : formatCount(exp.rowCount)} rows written
        </span>
        <progress max={Math.max(total, 1)} value={exp.status === 'SUCCEEDED' ? Math.max(total, 1) : exp.rowsWritten} />
      </label>
      {exp.status === 'FAILED' ? <ErrorNote error={exp.error ?? 'The export failed.'} /> : null}
      {exp.status === 'SUCCEEDED' ? (
        exp.expired || !exp.downloadUrl ? (
          <p>Expired {formatTime(exp.expiresAt)}: its file was removed.</p>
        ) : (
          <p>
            <button type="button" class="primary" onClick={() => onDownload(exp)}>
              Download {exp.format === 'PARQUET' ? 'Parquet' : 'CSV'} ({formatBytes(exp.sizeBytes)})
            </button>{' '}
            <span class="muted">until {formatTime(exp.expiresAt)}</span>
          </p>
        )
      ) : null}
      <ErrorNote error={liveError} />
    </section>
  );
}

function ExportList({
  exports,
  deploymentId,
  currentId,
  onDownload,
}: {
  exports: ExportTabExportFragment[];
  deploymentId: string;
  currentId: string | undefined;
  onDownload: (exp: ExportTabExportFragment) => void;
}) {
  if (exports.length === 0) return <p>No exports yet.</p>;
  return (
    <table class="data-table export-list">
      <caption class="visually-hidden">Recent exports, newest first</caption>
      <thead>
        <tr>
          <th scope="col">Created</th>
          <th scope="col">Status</th>
          <th scope="col">Format</th>
          <th scope="col" class="number">
            Batches
          </th>
          <th scope="col" class="number">
            Rows
          </th>
          <th scope="col" class="number">
            Size
          </th>
          <th scope="col">Expires</th>
          <th scope="col">File</th>
        </tr>
      </thead>
      <tbody>
        {exports.map((exp) => (
          <tr key={exp.id} aria-current={exp.id === currentId ? 'true' : undefined}>
            <td>
              <a href={href({ page: 'deployment', deploymentId, tab: 'export', itemId: exp.id })}>{formatTime(exp.createdAt)}</a>
            </td>
            <td>
              <span class={`export-status status-${exp.status.toLowerCase()}`}>{STATUS_TEXT[exp.status]}</span>
              {exp.status === 'FAILED' && exp.error ? <div class="small muted">{exp.error}</div> : null}
            </td>
            <td>
              {exp.format}
              {exp.includeActuals ? ' + actuals' : ''}
            </td>
            <td class="number">{exp.batchCount}</td>
            <td class="number">{formatCount(exp.rowCount)}</td>
            <td class="number">{formatBytes(exp.sizeBytes)}</td>
            <td>{exp.expired ? <span class="expired">Expired</span> : formatTime(exp.expiresAt)}</td>
            <td>
              {exp.downloadUrl && !exp.expired ? (
                <button type="button" onClick={() => onDownload(exp)} aria-label={`Download the export of ${formatTime(exp.createdAt)}`}>
                  Download
                </button>
              ) : (
                <span class="muted">—</span>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
