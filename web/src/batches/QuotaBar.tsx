import { useState } from 'preact/hooks';
import { useSubscription } from '../api/hooks';
import { formatCount, viewerTimeZone } from '../app/format';
import { ErrorNote } from '../app/ui';
import { BatchQuotaLiveDocument, type BatchQuotaLiveSubscription } from '../generated/graphql';
import { formatTimeWithZone } from './time';

type Quota = BatchQuotaLiveSubscription['batchQuota'];

/** "Batches created" today against the daily limit, live (the subscription sends the state first, then changes). */
export function QuotaBar({ deploymentId }: { deploymentId: string }) {
  const [quota, setQuota] = useState<Quota>();
  const error = useSubscription(BatchQuotaLiveDocument, { deploymentId }, (data) => setQuota(data.batchQuota));
  return (
    <section class="quota" aria-labelledby="quota-title" data-live={quota ? 'on' : undefined}>
      <h2 id="quota-title" class="quota-title">
        Batches created
      </h2>
      {quota ? <QuotaFigures quota={quota} /> : error ? <ErrorNote error={error} /> : <p class="muted small">Reading today’s quota…</p>}
    </section>
  );
}

function QuotaFigures({ quota }: { quota: Quota }) {
  const resets = (
    <>
      Resets at <time dateTime={quota.resetsAt}>{formatTimeWithZone(quota.resetsAt)}</time> ({viewerTimeZone()}).
    </>
  );
  if (quota.limit === null) {
    return (
      <p class="quota-text">
        <strong>{formatCount(quota.used)}</strong> today · no daily limit. {resets}
      </p>
    );
  }
  const { used, limit } = quota;
  const reached = used >= limit;
  const summary = `${formatCount(used)} of ${formatCount(limit)} batches created today`;
  return (
    <>
      <div
        class={`quota-track${reached ? ' quota-reached' : ''}`}
        role="progressbar"
        aria-labelledby="quota-title"
        aria-valuemin={0}
        aria-valuemax={limit}
        // A limit lowered below today's count still reads as full, not beyond the bar.
        aria-valuenow={Math.min(used, limit)}
        aria-valuetext={reached ? `${summary}: daily limit reached` : summary}
      >
        <div class="quota-fill" style={{ width: `${limit === 0 ? 100 : Math.min(100, (used / limit) * 100)}%` }} />
      </div>
      <p class="quota-text">
        <strong>
          {formatCount(used)} / {formatCount(limit)}
        </strong>{' '}
        today ·{' '}
        {reached ? (
          <strong class="quota-reached-text">Daily limit reached: no new batch can be created until the reset.</strong>
        ) : (
          <>{formatCount(limit - used)} left.</>
        )}{' '}
        {resets}
      </p>
    </>
  );
}
