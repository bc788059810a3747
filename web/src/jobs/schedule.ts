// A job definition's schedule in words. The API keeps DataRobot's schedule (each field a list of
// values, null for every value) in UTC; a day matches dayOfMonth OR dayOfWeek when both are set.

/** The API's JobSchedule (structurally; this file imports nothing, so that tests in node can read it). */
export interface Schedule {
  minute?: readonly number[] | null;
  hour?: readonly number[] | null;
  dayOfMonth?: readonly number[] | null;
  month?: readonly number[] | null;
  dayOfWeek?: readonly number[] | null;
}

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

const two = (n: number) => String(n).padStart(2, '0');

/** "a, b and c". */
export function listInWords(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

function sorted(values: readonly number[]): number[] {
  return [...new Set(values)].sort((a, b) => a - b);
}

function timeInWords(minute: readonly number[] | null, hour: readonly number[] | null): string {
  if (!minute && !hour) return 'every minute';
  if (!minute) return `every minute during hour ${listInWords(sorted(hour!).map((h) => `${two(h)}:00–${two(h)}:59`))} UTC`;
  const minutes = sorted(minute);
  if (!hour) {
    return minutes.length === 1 && minutes[0] === 0
      ? 'every hour, on the hour'
      : `every hour at minute ${listInWords(minutes.map(String))}`;
  }
  const hours = sorted(hour);
  // A few times of day read best as times; many as the two lists.
  if (minutes.length * hours.length <= 6) {
    return `at ${listInWords(hours.flatMap((h) => minutes.map((m) => `${two(h)}:${two(m)}`)))} UTC`;
  }
  return `at minute ${listInWords(minutes.map(String))} of hour ${listInWords(hours.map(String))} (UTC)`;
}

function daysInWords(dayOfMonth: readonly number[] | null, dayOfWeek: readonly number[] | null): string {
  const dates = dayOfMonth ? `on day ${listInWords(sorted(dayOfMonth).map(String))} of the month` : '';
  const weekdays = dayOfWeek ? `on ${listInWords(sorted(dayOfWeek).map((d) => WEEKDAYS[d] ?? String(d)))}` : '';
  if (dates && weekdays) return `${dates} or ${weekdays}`;
  return dates || weekdays || 'every day';
}

/** e.g. "At 02:30 UTC, every day", "Every hour at minute 15, on Monday and Friday, in January". */
export function scheduleInWords(schedule: Schedule): string {
  const time = timeInWords(schedule.minute ?? null, schedule.hour ?? null);
  const days = daysInWords(schedule.dayOfMonth ?? null, schedule.dayOfWeek ?? null);
  const months = schedule.month ? `in ${listInWords(sorted(schedule.month).map((m) => MONTHS[m - 1] ?? String(m)))}` : '';
  // "Every minute, every day" says "every" twice: the days go without saying.
  const text = [time, days === 'every day' && time.startsWith('every') ? '' : days, months].filter(Boolean).join(', ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}
