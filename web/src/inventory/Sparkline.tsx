import { formatCount } from '../app/format';

/** The 7-day activity as a small SVG line (one point a day, today last); its numbers in the title. */
export function Sparkline({ days, label }: { days: { day: string; predictionCount: number }[]; label: string }) {
  const width = 96;
  const height = 24;
  const max = Math.max(1, ...days.map((day) => day.predictionCount));
  const step = days.length > 1 ? width / (days.length - 1) : width;
  const points = days.map(
    (day, index) => `${(index * step).toFixed(1)},${(height - 2 - (day.predictionCount / max) * (height - 4)).toFixed(1)}`,
  );
  const summary = days.map((day) => `${day.day}: ${formatCount(day.predictionCount)}`).join(', ');
  return (
    <svg class="sparkline" width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`${label}: ${summary}`}>
      <title>{summary}</title>
      <polyline points={points.join(' ')} fill="none" stroke="currentColor" stroke-width="1.5" />
    </svg>
  );
}
