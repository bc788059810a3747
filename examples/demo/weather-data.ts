import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

// Seattle's daily weather 2012–2015 (NOAA, as packaged by vega-datasets): the demo's data and the
// training set of its model.

/** The model's inputs, in the order of the model file and the deployment. */
export const FEATURES = ['precipitation', 'temp_max', 'temp_min', 'wind'] as const;
export type Feature = (typeof FEATURES)[number];

/** The classes, in the model's (and the deployment's) classNames order. */
export const WEATHER = ['drizzle', 'fog', 'rain', 'snow', 'sun'] as const;

export interface Day {
  /** YYYY-MM-DD: each day's association id. */
  date: string;
  precipitation: number;
  temp_max: number;
  temp_min: number;
  wind: number;
  weather: string;
}

/** The CSV inside the installed vega-datasets package (its `exports` names no data files: found next to its entry point). */
export function datasetPath(): string {
  const entry = createRequire(import.meta.url).resolve('vega-datasets');
  return path.join(path.dirname(entry), '..', 'data', 'seattle-weather.csv');
}

/** Every day of the dataset, oldest first. */
export function readDays(file = datasetPath()): Day[] {
  const [header, ...lines] = readFileSync(file, 'utf8').trim().split(/\r?\n/);
  const expected = 'date,precipitation,temp_max,temp_min,wind,weather';
  if (header !== expected) throw new Error(`${file}: expected the header ${expected}, found ${header}`);
  return lines.map((line, index) => {
    const [date, precipitation, tempMax, tempMin, wind, weather] = line.split(',');
    const day: Day = {
      date: date!,
      precipitation: Number(precipitation),
      temp_max: Number(tempMax),
      temp_min: Number(tempMin),
      wind: Number(wind),
      weather: weather!,
    };
    const bad = FEATURES.find((f) => !Number.isFinite(day[f]));
    if (!/^\d{4}-\d{2}-\d{2}$/.test(day.date) || bad || !(WEATHER as readonly string[]).includes(day.weather)) {
      throw new Error(`${file}: line ${index + 2} is not a day of weather: ${line}`);
    }
    return day;
  });
}

/** "YYYY-MM" of a day. */
export const monthOf = (day: Day) => day.date.slice(0, 7);

/** The days by month (YYYY-MM), in the order of `days`. */
export function daysByMonth(days: Day[]): Map<string, Day[]> {
  const months = new Map<string, Day[]>();
  for (const day of days) {
    const month = monthOf(day);
    const of = months.get(month);
    if (of) of.push(day);
    else months.set(month, [day]);
  }
  return months;
}
