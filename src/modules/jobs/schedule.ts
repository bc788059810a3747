import { Cron } from 'croner';
import type { JobSchedule, ScheduleField } from '../../db/tables.js';
import { type FieldError, ValidationError } from '../../errors.js';

// A job definition's schedule as DataRobot's Batch Prediction API takes it: five lists (minute,
// hour, dayOfMonth, month, dayOfWeek), each ["*"] or numbers; months and week days may be named.
// Read as a cron expression by croner, in UTC. Like DataRobot (and cron), a day matches when it
// matches dayOfMonth OR dayOfWeek if both are restricted; when one of them is ["*"], the other alone
// decides. Dates that do not exist (February 30th) are skipped.

const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];
const DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

interface FieldRule {
  key: keyof JobSchedule;
  min: number;
  max: number;
  /** Names accepted for values, index + `min` = value (full names and their first three letters). */
  names?: string[];
  describe: string;
}

const FIELDS: FieldRule[] = [
  { key: 'minute', min: 0, max: 59, describe: 'an integer from 0 to 59' },
  { key: 'hour', min: 0, max: 23, describe: 'an integer from 0 to 23' },
  { key: 'dayOfMonth', min: 1, max: 31, describe: 'an integer from 1 to 31' },
  { key: 'month', min: 1, max: 12, names: MONTHS, describe: 'an integer from 1 to 12 or a month name ("jan" or "january" …)' },
  {
    key: 'dayOfWeek',
    min: 0,
    max: 6,
    names: DAYS,
    describe: 'an integer from 0 (Sunday) to 6 or a day name ("sun" or "sunday" …)',
  },
];

const MAX_VALUES = 100;

function nameValue(rule: FieldRule, value: string): number | null {
  const name = value.trim().toLowerCase();
  const index = rule.names?.findIndex((full) => full === name || full.slice(0, 3) === name) ?? -1;
  return index < 0 ? null : index + rule.min;
}

/**
 * A schedule from a request body (DataRobot's shape), validated and normalized: names become
 * numbers, lists are sorted without repeats. Errors name `<path>.<field>.<index>`.
 */
export function parseSchedule(input: unknown, path = 'schedule'): JobSchedule | ValidationError {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return ValidationError.of(path, 'must be an object with minute, hour, dayOfMonth, month and dayOfWeek');
  }
  const body = input as Record<string, unknown>;
  const errors: FieldError[] = [];
  const schedule: Partial<Record<keyof JobSchedule, ScheduleField>> = {};
  for (const key of Object.keys(body)) {
    if (!FIELDS.some((rule) => rule.key === key)) errors.push({ field: `${path}.${key}`, message: 'is not a schedule field' });
  }
  for (const rule of FIELDS) {
    const field = `${path}.${rule.key}`;
    const list = body[rule.key];
    if (list === undefined || list === null) {
      errors.push({ field, message: 'is required: ["*"] or a list of values' });
      continue;
    }
    if (!Array.isArray(list)) {
      errors.push({ field, message: 'must be a list: ["*"] or values' });
      continue;
    }
    if (list.length === 0) {
      errors.push({ field, message: 'must not be empty (["*"] means every value)' });
      continue;
    }
    if (list.length > MAX_VALUES) {
      errors.push({ field, message: `must have at most ${MAX_VALUES} values` });
      continue;
    }
    if (list.includes('*')) {
      if (list.length > 1) errors.push({ field, message: '"*" must be the only value' });
      else schedule[rule.key] = ['*'];
      continue;
    }
    const values = new Set<number>();
    list.forEach((value: unknown, index) => {
      const number =
        typeof value === 'number' && Number.isInteger(value) ? value : typeof value === 'string' ? nameValue(rule, value) : null;
      if (number === null || number < rule.min || number > rule.max) {
        errors.push({ field: `${field}.${index}`, message: `must be ${rule.describe}, or the whole list ["*"]` });
      } else {
        values.add(number);
      }
    });
    schedule[rule.key] = [...values].sort((a, b) => a - b);
  }
  if (errors.length) return new ValidationError(errors);
  const parsed = schedule as JobSchedule;
  if (nextRunAfter(parsed, new Date()) === null) {
    return ValidationError.of(
      `${path}.dayOfMonth`,
      'matches no date in the months of `month` (e.g. 31 in February): the schedule would never run',
    );
  }
  return parsed;
}

const part = (field: ScheduleField) => (field[0] === '*' ? '*' : field.join(','));

/** The schedule as a 5-field cron expression (minute hour day-of-month month day-of-week). */
export function cronExpression(schedule: JobSchedule): string {
  return [schedule.minute, schedule.hour, schedule.dayOfMonth, schedule.month, schedule.dayOfWeek].map(part).join(' ');
}

/** The first run strictly after `after` (UTC), or null when the schedule matches no date at all. */
export function nextRunAfter(schedule: JobSchedule, after: Date): Date | null {
  // domAndDow false: a day matches dayOfMonth OR dayOfWeek when both are restricted (croner's
  // default, spelled out); with one of them "*", croner lets the other alone decide, as cron does.
  const cron = new Cron(cronExpression(schedule), { timezone: 'Etc/UTC', mode: '5-part', domAndDow: false, paused: true });
  return cron.nextRun(after);
}
