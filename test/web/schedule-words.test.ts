import { describe, expect, it } from 'vitest';
import { type Schedule, scheduleInWords } from '../../web/src/jobs/schedule.js';

// The Jobs tab's schedules in words (DataRobot's schedule: lists of values, null for every value, UTC).

const every: Schedule = { minute: null, hour: null, dayOfMonth: null, month: null, dayOfWeek: null };

describe('a job definition’s schedule in words', () => {
  it('reads times of day as times, in UTC', () => {
    expect(scheduleInWords({ ...every, minute: [30], hour: [2] })).toBe('At 02:30 UTC, every day');
    expect(scheduleInWords({ ...every, minute: [0, 30], hour: [14, 2] })).toBe('At 02:00, 02:30, 14:00 and 14:30 UTC, every day');
    expect(scheduleInWords({ ...every, minute: [0, 15, 30, 45], hour: [1, 2] })).toBe(
      'At minute 0, 15, 30 and 45 of hour 1 and 2 (UTC), every day',
    );
  });

  it('reads hourly and minutely schedules', () => {
    expect(scheduleInWords(every)).toBe('Every minute');
    expect(scheduleInWords({ ...every, minute: [0] })).toBe('Every hour, on the hour');
    expect(scheduleInWords({ ...every, minute: [15, 45] })).toBe('Every hour at minute 15 and 45');
    expect(scheduleInWords({ ...every, hour: [9] })).toBe('Every minute during hour 09:00–09:59 UTC');
  });

  it('reads days of the week OR of the month, and months', () => {
    expect(scheduleInWords({ ...every, minute: [0], hour: [6], dayOfWeek: [5, 1] })).toBe('At 06:00 UTC, on Monday and Friday');
    expect(scheduleInWords({ ...every, minute: [0], hour: [6], dayOfMonth: [1, 15] })).toBe('At 06:00 UTC, on day 1 and 15 of the month');
    expect(scheduleInWords({ ...every, minute: [0], hour: [6], dayOfMonth: [1], dayOfWeek: [0] })).toBe(
      'At 06:00 UTC, on day 1 of the month or on Sunday',
    );
    expect(scheduleInWords({ ...every, minute: [0], hour: [0], dayOfMonth: [1], month: [1, 7] })).toBe(
      'At 00:00 UTC, on day 1 of the month, in January and July',
    );
    expect(scheduleInWords({ ...every, minute: [5], month: [12] })).toBe('Every hour at minute 5, in December');
  });
});
