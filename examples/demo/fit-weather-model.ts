import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Day, FEATURES, readDays, WEATHER } from './weather-data.js';

// Fits examples/model-server/models/seattle-weather.json: multinomial logistic regression of the
// day's weather on precipitation, temperatures and wind, trained on 2012 only (so 2013–2015 are
// data the model never saw), by plain batch gradient descent on standardized features with a
// little L2. Deterministic: the same data give the same file. Run: npx tsx examples/demo/fit-weather-model.ts

const OUTPUT = fileURLToPath(new URL('../model-server/models/seattle-weather.json', import.meta.url));
const STEPS = 20_000;
const LEARNING_RATE = 0.5;
const L2 = 1e-3;

interface Fitted {
  /** Per class: intercept and one coefficient per feature, on the raw (unstandardized) features. */
  intercepts: number[];
  coefficients: number[][];
}

function softmax(scores: number[]): number[] {
  const top = Math.max(...scores);
  const exps = scores.map((s) => Math.exp(s - top));
  const total = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / total);
}

function fitSoftmax(days: Day[]): Fitted {
  const K = WEATHER.length;
  const P = FEATURES.length;
  const means = FEATURES.map((f) => days.reduce((s, d) => s + d[f], 0) / days.length);
  const stds = FEATURES.map((f, j) => Math.sqrt(days.reduce((s, d) => s + (d[f] - means[j]!) ** 2, 0) / days.length));
  const x = days.map((d) => FEATURES.map((f, j) => (d[f] - means[j]!) / stds[j]!));
  const y = days.map((d) => WEATHER.indexOf(d.weather as (typeof WEATHER)[number]));
  const w = Array.from({ length: K }, () => new Array<number>(P).fill(0));
  const b = new Array<number>(K).fill(0);
  for (let step = 0; step < STEPS; step++) {
    const gw = Array.from({ length: K }, () => new Array<number>(P).fill(0));
    const gb = new Array<number>(K).fill(0);
    for (let i = 0; i < x.length; i++) {
      const p = softmax(w.map((row, k) => b[k]! + row.reduce((s, c, j) => s + c * x[i]![j]!, 0)));
      for (let k = 0; k < K; k++) {
        const error = p[k]! - (y[i] === k ? 1 : 0);
        gb[k]! += error;
        for (let j = 0; j < P; j++) gw[k]![j]! += error * x[i]![j]!;
      }
    }
    for (let k = 0; k < K; k++) {
      b[k]! -= (LEARNING_RATE * gb[k]!) / x.length;
      for (let j = 0; j < P; j++) w[k]![j]! -= LEARNING_RATE * (gw[k]![j]! / x.length + L2 * w[k]![j]!);
    }
  }
  // Back to raw features: w·(x − μ)/σ + b = (w/σ)·x + (b − Σ w μ/σ).
  return {
    coefficients: w.map((row) => row.map((c, j) => c / stds[j]!)),
    intercepts: b.map((bk, k) => bk - w[k]!.reduce((s, c, j) => s + (c * means[j]!) / stds[j]!, 0)),
  };
}

const round = (value: number) => Number(value.toPrecision(6));

function predict(model: Fitted, day: Day): string {
  const p = softmax(model.intercepts.map((b, k) => b + FEATURES.reduce((s, f, j) => s + model.coefficients[k]![j]! * day[f], 0)));
  return WEATHER[p.indexOf(Math.max(...p))]!;
}

const accuracy = (model: Fitted, days: Day[]) => days.filter((d) => predict(model, d) === d.weather).length / days.length;

const days = readDays();
const fitted = fitSoftmax(days.filter((d) => d.date < '2013'));
// Rounded as written, so the accuracies below are those of the file.
const model: Fitted = { intercepts: fitted.intercepts.map(round), coefficients: fitted.coefficients.map((row) => row.map(round)) };
const file = {
  targetType: 'MULTICLASS',
  classNames: WEATHER,
  features: FEATURES.map((name) => ({ name, type: 'NUMERIC' })),
  outputs: Object.fromEntries(
    WEATHER.map((name, k) => [
      name,
      { intercept: model.intercepts[k], coefficients: Object.fromEntries(FEATURES.map((f, j) => [f, model.coefficients[k]![j]])) },
    ]),
  ),
};
writeFileSync(OUTPUT, `${JSON.stringify(file, null, 2)}\n`);
// In the repository's JSON style, so `npm run lint` passes on the committed file.
execFileSync('npx', ['biome', 'format', '--write', OUTPUT], { stdio: 'ignore' });
console.log(`wrote ${OUTPUT}`);
for (const year of ['2012', '2013', '2014', '2015']) {
  const of = days.filter((d) => d.date.startsWith(year));
  console.log(`accuracy ${year}${year === '2012' ? ' (training)' : ''}: ${(accuracy(model, of) * 100).toFixed(1)}% of ${of.length} days`);
}
const later = days.filter((d) => d.date >= '2013');
console.log(`accuracy 2013–2015: ${(accuracy(model, later) * 100).toFixed(1)}% of ${later.length} days`);
