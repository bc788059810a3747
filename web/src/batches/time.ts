// Times typed into <input type="datetime-local">: the viewer's wall clock (the browser's time zone),
// converted to and from the API's instants.

const pad = (value: number, width = 2) => String(value).padStart(width, '0');

/**
 * An instant as a datetime-local value in the viewer's zone, to the second ("" for none). Zero
 * seconds are left out, as the browser writes the value itself, so an untouched field compares equal.
 */
export function toLocalInput(iso: string | null | undefined): string {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const minutes = `${pad(date.getFullYear(), 4)}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
  return date.getSeconds() ? `${minutes}:${pad(date.getSeconds())}` : minutes;
}

/** A datetime-local value (read as the viewer's wall clock) as an ISO instant; null when empty or invalid. */
export function fromLocalInput(value: string): string | null {
  if (!value) return null;
  // A date-time without an offset is local time (ECMAScript), which is what the input shows.
  const date = new Date(value.length === 16 ? `${value}:00` : value);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

// (dateStyle / timeStyle cannot be combined with timeZoneName: the parts are spelled out.)
const withZone = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: 'numeric',
  minute: '2-digit',
  timeZoneName: 'short',
});

/** An instant with the zone's short name ("Mar 2, 2026, 1:00 AM GMT+1"). */
export function formatTimeWithZone(iso: string): string {
  return withZone.format(new Date(iso));
}
