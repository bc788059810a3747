#!/usr/bin/env node
// A small model server for trying batchlens against a real backend: linear models read from JSON
// files, served over the Open Inference Protocol v2 (as MLServer answers it) and MLflow's scoring
// protocol (as `mlflow models serve` answers it). Plain Node, no dependencies: `node server.mjs`.
// The model file format, routes and flags are in README.md next to this file.

import { isAscii } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const MAX_BODY_BYTES = 64 * 1024 * 1024;
const TARGET_TYPES = ['REGRESSION', 'BINARY', 'MULTICLASS'];
const FEATURE_TYPES = ['NUMERIC', 'CATEGORICAL'];
const NUMERIC_DATATYPES = new Set(['FP16', 'FP32', 'FP64', 'INT8', 'INT16', 'INT32', 'INT64', 'UINT8', 'UINT16', 'UINT32', 'UINT64']);
const BEHAVIOUR_KEYS = ['delayMs', 'failFirst', 'failStatus', 'malformed'];
const USAGE = `usage: node server.mjs [--port N] [--host HOST] [--models DIR] [--mlflow-model NAME]
  --port N             port to listen on (default: env PORT, else 8080; 0 picks a free one)
  --host HOST          address to listen on (default 127.0.0.1)
  --models DIR         directory of <name>.json model files (default: models/ next to server.mjs)
  --mlflow-model NAME  the model served at the root MLflow routes /ping and /invocations
                       (default: the first model in alphabetical order)`;

/** A request the client got wrong: answered 400 (or `status`) with `message`. */
class BadRequest extends Error {
  constructor(message, status = 400) {
    super(message);
    this.status = status;
  }
}

// --- command line ------------------------------------------------------------------------------

function parseArgs(argv) {
  const options = { port: process.env.PORT ?? '8080', host: '127.0.0.1', models: path.join(HERE, 'models'), mlflowModel: undefined };
  const names = { '--port': 'port', '--host': 'host', '--models': 'models', '--mlflow-model': 'mlflowModel' };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      process.exit(0);
    }
    const eq = arg.indexOf('=');
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    const key = names[flag];
    if (!key) fail(`unknown argument ${JSON.stringify(arg)}\n${USAGE}`);
    const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined || value === '') fail(`${flag} needs a value\n${USAGE}`);
    options[key] = value;
  }
  const port = Number(options.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`port must be an integer 0-65535, got ${JSON.stringify(options.port)}`);
  options.port = port;
  return options;
}

function fail(message) {
  console.error(`model-server: ${message}`);
  process.exit(2);
}

// --- models ------------------------------------------------------------------------------------

const isObject = (value) => typeof value === 'object' && value !== null && !Array.isArray(value);
const isFiniteNumber = (value) => typeof value === 'number' && Number.isFinite(value);

/**
 * Reads and checks a model file, and compiles it for scoring: per feature, the coefficient of
 * each of the K linear scores (numeric: K numbers; categorical: category -> K numbers).
 */
function loadModel(name, file) {
  let spec;
  try {
    spec = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`${file}: ${error.message}`);
  }
  const problem = (message) => new Error(`${file}: ${message}`);
  if (!isObject(spec)) throw problem('must hold a JSON object');
  const { targetType, classNames, features, outputs } = spec;
  if (!TARGET_TYPES.includes(targetType)) throw problem(`targetType must be one of ${TARGET_TYPES.join(', ')}`);

  if (!Array.isArray(features) || features.length === 0) throw problem('features must be a non-empty array');
  const featureIndex = new Map();
  for (const [j, feature] of features.entries()) {
    if (!isObject(feature) || typeof feature.name !== 'string' || feature.name === '') throw problem(`features[${j}] needs a name`);
    if (!FEATURE_TYPES.includes(feature.type)) throw problem(`features[${j}] (${feature.name}): type must be NUMERIC or CATEGORICAL`);
    if (featureIndex.has(feature.name)) throw problem(`feature ${feature.name} is listed twice`);
    featureIndex.set(feature.name, j);
  }

  // The output names the K linear scores, in order.
  let scoreNames;
  if (targetType === 'REGRESSION') {
    if (classNames !== undefined) throw problem('classNames is only for BINARY and MULTICLASS models');
    if (!isObject(outputs) || Object.keys(outputs).length !== 1) throw problem('a REGRESSION model has exactly one output (e.g. "value")');
    scoreNames = Object.keys(outputs);
  } else {
    if (
      !Array.isArray(classNames) ||
      classNames.some((c) => typeof c !== 'string' || c === '') ||
      new Set(classNames).size !== classNames.length
    )
      throw problem('classNames must be an array of distinct non-empty strings');
    if (targetType === 'BINARY' && classNames.length !== 2) throw problem('a BINARY model has exactly 2 classNames: [negative, positive]');
    if (classNames.length < 2) throw problem('a MULTICLASS model has at least 2 classNames');
    if (!isObject(outputs)) throw problem('outputs must be an object');
    const names = Object.keys(outputs);
    if (targetType === 'BINARY') {
      if (names.length !== 1 || names[0] !== classNames[1])
        throw problem(`a BINARY model has exactly one output, named after the positive class ${JSON.stringify(classNames[1])}`);
      scoreNames = names;
    } else {
      const missing = classNames.filter((c) => !Object.hasOwn(outputs, c));
      const extra = names.filter((n) => !classNames.includes(n));
      if (missing.length > 0 || extra.length > 0)
        throw problem(`a MULTICLASS model has one output per class name (missing: [${missing}], not a class: [${extra}])`);
      scoreNames = classNames;
    }
  }

  const K = scoreNames.length;
  const intercepts = new Float64Array(K);
  const numeric = features.map((f) => (f.type === 'NUMERIC' ? new Float64Array(K) : null));
  const categorical = features.map((f) => (f.type === 'CATEGORICAL' ? new Map() : null));
  for (const [k, outputName] of scoreNames.entries()) {
    const output = outputs[outputName];
    const where = `outputs.${outputName}`;
    if (!isObject(output)) throw problem(`${where} must be an object`);
    const intercept = output.intercept ?? 0;
    if (!isFiniteNumber(intercept)) throw problem(`${where}.intercept must be a number`);
    intercepts[k] = intercept;
    const coefficients = output.coefficients ?? {};
    if (!isObject(coefficients)) throw problem(`${where}.coefficients must be an object`);
    for (const [featureName, coefficient] of Object.entries(coefficients)) {
      const j = featureIndex.get(featureName);
      if (j === undefined) throw problem(`${where}.coefficients.${featureName}: no such feature`);
      if (numeric[j]) {
        if (!isFiniteNumber(coefficient)) throw problem(`${where}.coefficients.${featureName} must be a number (NUMERIC feature)`);
        numeric[j][k] = coefficient;
      } else {
        if (!isObject(coefficient)) throw problem(`${where}.coefficients.${featureName} must be {category: number} (CATEGORICAL feature)`);
        for (const [category, value] of Object.entries(coefficient)) {
          if (!isFiniteNumber(value)) throw problem(`${where}.coefficients.${featureName}.${category} must be a number`);
          if (!categorical[j].has(category)) categorical[j].set(category, new Float64Array(K));
          categorical[j].get(category)[k] = value;
        }
      }
    }
  }

  const behaviour = spec.behaviour ?? {};
  if (!isObject(behaviour)) throw problem('behaviour must be an object');
  for (const key of Object.keys(behaviour))
    if (!BEHAVIOUR_KEYS.includes(key)) throw problem(`behaviour.${key}: unknown (known: ${BEHAVIOUR_KEYS})`);
  const { delayMs = 0, failFirst = 0, failStatus = 503, malformed = false } = behaviour;
  if (!isFiniteNumber(delayMs) || delayMs < 0) throw problem('behaviour.delayMs must be a number >= 0');
  if (!Number.isInteger(failFirst) || failFirst < 0) throw problem('behaviour.failFirst must be an integer >= 0');
  if (!Number.isInteger(failStatus) || failStatus < 400 || failStatus > 599)
    throw problem('behaviour.failStatus must be an HTTP status 400-599');
  if (typeof malformed !== 'boolean') throw problem('behaviour.malformed must be true or false');

  return {
    name,
    targetType,
    classNames: targetType === 'REGRESSION' ? [] : classNames,
    features: features.map((f) => ({ name: f.name, type: f.type })),
    featureIndex,
    K,
    // Columns of the answer: REGRESSION 1 (the prediction), BINARY 2, MULTICLASS K probabilities.
    P: targetType === 'REGRESSION' ? 1 : targetType === 'BINARY' ? 2 : K,
    intercepts,
    numeric,
    categorical,
    behaviour: { delayMs, failFirst, failStatus, malformed },
    inferRequests: 0,
  };
}

function loadModels(dir) {
  let files;
  try {
    files = readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort();
  } catch (error) {
    fail(`cannot read models directory ${dir}: ${error.message}`);
  }
  if (files.length === 0) fail(`no <name>.json model files in ${dir}`);
  const models = new Map();
  for (const file of files) {
    const name = file.slice(0, -'.json'.length);
    try {
      models.set(name, loadModel(name, path.join(dir, file)));
    } catch (error) {
      fail(error.message);
    }
  }
  return models;
}

// --- scoring -----------------------------------------------------------------------------------

/** Adds numeric feature `j` (row i's value is `readNumber(column, i)`, null when missing) times its coefficients to the scores. */
function addNumeric(model, scores, n, j, column, readNumber) {
  const K = model.K;
  const c = model.numeric[j];
  if (K === 1) {
    const c0 = c[0];
    for (let i = 0; i < n; i++) {
      const x = readNumber(column, i);
      if (x !== null) scores[i] += c0 * x;
    }
    return;
  }
  for (let i = 0; i < n; i++) {
    const x = readNumber(column, i);
    if (x === null) continue;
    const base = i * K;
    for (let k = 0; k < K; k++) scores[base + k] += c[k] * x;
  }
}

/** Adds categorical feature `j` (row i's category is `readCategory(column, i)`, null when missing) to the scores. */
function addCategorical(model, scores, n, j, column, readCategory) {
  const K = model.K;
  const table = model.categorical[j];
  for (let i = 0; i < n; i++) {
    const category = readCategory(column, i);
    if (category === null) continue;
    const c = table.get(category);
    if (c === undefined) continue; // an unknown category adds nothing
    const base = i * K;
    for (let k = 0; k < K; k++) scores[base + k] += c[k];
  }
}

function newScores(model, n) {
  const { K, intercepts } = model;
  const scores = new Float64Array(n * K);
  if (intercepts.some((b) => b !== 0)) for (let i = 0; i < n; i++) for (let k = 0; k < K; k++) scores[i * K + k] = intercepts[k];
  return scores;
}

/** Row-major answer values: REGRESSION n predictions, BINARY n × [p(neg), p(pos)], MULTICLASS n × K probabilities. */
function answerValues(model, scores, n) {
  const { targetType, K } = model;
  if (targetType === 'REGRESSION') return Array.from(scores);
  if (targetType === 'BINARY') {
    const values = new Array(2 * n);
    for (let i = 0; i < n; i++) {
      const s = scores[i];
      // sigmoid, computed so that neither branch overflows
      const p = s >= 0 ? 1 / (1 + Math.exp(-s)) : Math.exp(s) / (1 + Math.exp(s));
      values[2 * i] = 1 - p;
      values[2 * i + 1] = p;
    }
    return values;
  }
  const values = new Array(n * K);
  for (let i = 0; i < n; i++) {
    const base = i * K;
    let max = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < K; k++) if (scores[base + k] > max) max = scores[base + k];
    let sum = 0;
    for (let k = 0; k < K; k++) {
      const e = Math.exp(scores[base + k] - max);
      values[base + k] = e;
      sum += e;
    }
    for (let k = 0; k < K; k++) values[base + k] /= sum;
  }
  return values;
}

/** The most probable class of each row (the MLServer `predict` output of a classifier). */
function labels(model, values, n) {
  const { P, classNames } = model;
  const out = new Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 1; k < P; k++) if (values[i * P + k] > values[i * P + best]) best = k;
    out[i] = classNames[best];
  }
  return out;
}

const describe = (value) =>
  typeof value === 'string' ? JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value) : JSON.stringify(value);

// --- Open Inference Protocol v2 ----------------------------------------------------------------

function v2Metadata(model) {
  const classifier = model.targetType !== 'REGRESSION';
  return {
    name: model.name,
    versions: [],
    platform: 'batchlens-example-linear',
    inputs: model.features.map((f) => ({ name: f.name, datatype: f.type === 'NUMERIC' ? 'FP64' : 'BYTES', shape: [-1] })),
    outputs: [
      classifier
        ? { name: 'predict_proba', datatype: 'FP64', shape: [-1, model.P] }
        : { name: 'predict', datatype: 'FP64', shape: [-1, 1] },
    ],
    parameters: {
      content_type: 'pd',
      target_type: model.targetType,
      ...(classifier ? { class_names: model.classNames } : {}),
    },
  };
}

/** Flattens nested tensor data (the v2 spec allows row-major nesting); flat data is returned as is. */
function flatData(data) {
  if (data.length === 0 || !Array.isArray(data[0])) return data;
  return data.flat(Number.POSITIVE_INFINITY);
}

function readV2Number(column, i) {
  const x = column.values[i];
  if (Number.isFinite(x)) return x;
  if (x === null) return null;
  throw new BadRequest(
    `input ${column.featureName}: data[${i}] is ${describe(x)}, not a number (datatype ${column.datatype}); use null for a missing value`,
  );
}

function readV2Category(column, i) {
  const x = column.values[i];
  if (typeof x === 'string' || x === null) return x;
  throw new BadRequest(
    `input ${column.featureName}: data[${i}] is ${describe(x)}, not a string (datatype BYTES); use null for a missing value`,
  );
}

/** Scores a v2 inference request; returns the response body. */
function v2Infer(model, body) {
  if (!isObject(body)) throw new BadRequest('request body must be a JSON object with "inputs"');
  const { inputs } = body;
  if (!Array.isArray(inputs) || inputs.length === 0)
    throw new BadRequest('"inputs" must be a non-empty array of {name, shape, datatype, data}');
  const columns = new Array(model.features.length).fill(null);
  let n = -1;
  let firstName;
  for (const [index, input] of inputs.entries()) {
    if (!isObject(input) || typeof input.name !== 'string') throw new BadRequest(`inputs[${index}] must be an object with a "name"`);
    const { name, shape, datatype, data } = input;
    const j = model.featureIndex.get(name);
    if (j === undefined) continue; // an input the model does not use
    if (columns[j]) throw new BadRequest(`input ${name} is given twice`);
    const feature = model.features[j];
    if (typeof datatype !== 'string') throw new BadRequest(`input ${name}: "datatype" is missing`);
    if (feature.type === 'NUMERIC' ? !NUMERIC_DATATYPES.has(datatype) : datatype !== 'BYTES')
      throw new BadRequest(
        `input ${name}: datatype ${datatype} does not fit a ${feature.type} feature (expected ${feature.type === 'NUMERIC' ? 'FP64' : 'BYTES'})`,
      );
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0))
      throw new BadRequest(`input ${name}: "shape" must be an array of non-negative integers`);
    if (shape.length === 0 || shape.length > 2 || (shape.length === 2 && shape[1] !== 1))
      throw new BadRequest(`input ${name}: shape [${shape}] is not [n] or [n, 1] (one column per feature)`);
    if (!Array.isArray(data)) throw new BadRequest(`input ${name}: "data" must be an array`);
    const values = flatData(data);
    if (values.length !== shape[0])
      throw new BadRequest(`input ${name}: shape [${shape}] says ${shape[0]} values, data has ${values.length}`);
    if (n === -1) {
      n = shape[0];
      firstName = name;
    } else if (shape[0] !== n) {
      throw new BadRequest(`input ${name} has ${shape[0]} rows, input ${firstName} has ${n}: all inputs must have the same length`);
    }
    columns[j] = { values, featureName: name, datatype };
  }
  const missing = model.features.filter((_, j) => !columns[j]).map((f) => f.name);
  if (missing.length > 0)
    throw new BadRequest(
      `missing inputs: ${missing.join(', ')} (model ${model.name} needs ${model.features.map((f) => f.name).join(', ')})`,
    );

  const requested = v2RequestedOutputs(model, body.outputs);
  const scores = newScores(model, n);
  for (let j = 0; j < columns.length; j++) {
    if (model.numeric[j]) addNumeric(model, scores, n, j, columns[j], readV2Number);
    else addCategorical(model, scores, n, j, columns[j], readV2Category);
  }
  const values = answerValues(model, scores, n);
  const outputs = requested.map((name) => {
    if (model.targetType === 'REGRESSION')
      return { name, shape: [n, 1], datatype: 'FP64', parameters: { content_type: 'np' }, data: values };
    if (name === 'predict')
      return { name, shape: [n, 1], datatype: 'BYTES', parameters: { content_type: 'np' }, data: labels(model, values, n) };
    return { name, shape: [n, model.P], datatype: 'FP64', parameters: { content_type: 'np' }, data: values };
  });
  if (model.behaviour.malformed) for (const output of outputs) output.data = output.data.slice(0, -output.shape[1]); // one row short
  return { model_name: model.name, id: typeof body.id === 'string' ? body.id : randomUUID(), parameters: {}, outputs };
}

/** The outputs a request asks for (MLServer's `outputs: [{name}]`), else the model's default. */
function v2RequestedOutputs(model, outputs) {
  const known = model.targetType === 'REGRESSION' ? ['predict'] : ['predict_proba', 'predict'];
  if (outputs === undefined || (Array.isArray(outputs) && outputs.length === 0)) return [known[0]];
  if (!Array.isArray(outputs) || !outputs.every((o) => isObject(o) && typeof o.name === 'string'))
    throw new BadRequest('"outputs" must be an array of {name}');
  for (const { name } of outputs)
    if (!known.includes(name)) throw new BadRequest(`model ${model.name} has no output ${name} (outputs: ${known.join(', ')})`);
  return outputs.map((o) => o.name);
}

// --- MLflow scoring server ---------------------------------------------------------------------

function readMlflowNumber(column, i) {
  const x = column.rows[i][column.at];
  if (Number.isFinite(x)) return x;
  if (x === null || x === undefined) return null;
  if (typeof x === 'string') {
    const trimmed = x.trim();
    if (trimmed === '') return null;
    const number = Number(trimmed);
    if (Number.isFinite(number)) return number;
  }
  throw new BadRequest(`column ${column.featureName}: row ${i} has ${describe(x)}, not a number (NUMERIC feature)`);
}

function readMlflowCategory(column, i) {
  const x = column.rows[i][column.at];
  if (typeof x === 'string') return x;
  if (x === null || x === undefined) return null;
  if (typeof x === 'number' || typeof x === 'boolean') return String(x);
  throw new BadRequest(`column ${column.featureName}: row ${i} has ${describe(x)}, not a category (CATEGORICAL feature)`);
}

const MLFLOW_FORMATS = ['dataframe_split', 'dataframe_records', 'instances', 'inputs'];

/** Scores an MLflow /invocations request (dataframe_split or dataframe_records); returns the response body. */
function mlflowInvoke(model, body) {
  if (!isObject(body))
    throw new BadRequest(`The input must be a JSON dictionary with exactly one of the input fields ${MLFLOW_FORMATS.join(', ')}`);
  const formats = Object.keys(body).filter((key) => MLFLOW_FORMATS.includes(key));
  if (formats.length !== 1)
    throw new BadRequest(
      `The input must be a JSON dictionary with exactly one of the input fields ${MLFLOW_FORMATS.join(', ')}. Received dictionary with input fields: [${Object.keys(body).join(', ')}]`,
    );
  const format = formats[0];
  let rows;
  let at; // per feature: where its value sits in a row (column index, or key of a record)
  if (format === 'dataframe_split') {
    const split = body.dataframe_split;
    if (!isObject(split)) throw new BadRequest('dataframe_split must be an object {"columns": [...], "data": [[...], ...]}');
    const { columns, data } = split;
    if (!Array.isArray(columns) || !columns.every((c) => typeof c === 'string'))
      throw new BadRequest('dataframe_split.columns must be an array of column names');
    if (!Array.isArray(data)) throw new BadRequest('dataframe_split.data must be an array of rows');
    const width = columns.length;
    for (let i = 0; i < data.length; i++) {
      const row = data[i];
      if (!Array.isArray(row)) throw new BadRequest(`dataframe_split.data[${i}] must be an array (a row)`);
      if (row.length !== width) throw new BadRequest(`dataframe_split.data[${i}] has ${row.length} values, but there are ${width} columns`);
    }
    const position = new Map();
    for (const [c, name] of columns.entries()) {
      if (position.has(name)) throw new BadRequest(`dataframe_split.columns names ${name} twice`);
      position.set(name, c);
    }
    at = model.features.map((f) => position.get(f.name));
    rows = data;
  } else if (format === 'dataframe_records') {
    rows = body.dataframe_records;
    if (!Array.isArray(rows) || !rows.every(isObject))
      throw new BadRequest('dataframe_records must be an array of {column: value} objects');
    at = model.features.map((f) => (rows.some((r) => Object.hasOwn(r, f.name)) ? f.name : undefined));
  } else {
    throw new BadRequest(`${format} is not supported by this server: send dataframe_split (or dataframe_records)`);
  }
  const missing = model.features.filter((_, j) => at[j] === undefined).map((f) => f.name);
  if (missing.length > 0 && (format === 'dataframe_split' || rows.length > 0))
    throw new BadRequest(
      `Model is missing inputs [${missing.map((m) => `'${m}'`).join(', ')}] (model ${model.name} needs ${model.features.map((f) => f.name).join(', ')})`,
    );

  const n = rows.length;
  const scores = newScores(model, n);
  if (n > 0) {
    for (let j = 0; j < model.features.length; j++) {
      const column = { rows, at: at[j], featureName: model.features[j].name };
      if (model.numeric[j]) addNumeric(model, scores, n, j, column, readMlflowNumber);
      else addCategorical(model, scores, n, j, column, readMlflowCategory);
    }
  }
  const values = answerValues(model, scores, n);
  let predictions = values;
  if (model.targetType !== 'REGRESSION') {
    const P = model.P;
    predictions = new Array(n);
    for (let i = 0; i < n; i++) predictions[i] = values.slice(i * P, i * P + P);
  }
  if (model.behaviour.malformed) predictions = predictions.slice(0, -1); // one row short
  return { predictions };
}

const MLFLOW_ERROR_CODES = {
  400: 'BAD_REQUEST',
  404: 'RESOURCE_DOES_NOT_EXIST',
  413: 'BAD_REQUEST',
  429: 'REQUEST_LIMIT_EXCEEDED',
  503: 'TEMPORARILY_UNAVAILABLE',
};
const mlflowErrorCode = (status) => MLFLOW_ERROR_CODES[status] ?? (status < 500 ? 'BAD_REQUEST' : 'INTERNAL_ERROR');

// --- HTTP --------------------------------------------------------------------------------------

function send(res, status, body, contentType = 'application/json') {
  const bytes = Buffer.from(body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body), 'utf8');
  res.writeHead(status, { 'content-type': contentType, 'content-length': bytes.length });
  res.end(bytes);
}

/** Error answers in each protocol's shape. */
const v2Error = (res, status, message) => send(res, status, { error: message });
const mlflowError = (res, status, message) => send(res, status, { error_code: mlflowErrorCode(status), message });

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk); // past the limit, the rest is read and dropped
    });
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) return reject(new BadRequest(`request body is larger than ${MAX_BODY_BYTES} bytes`, 413));
      const bytes = Buffer.concat(chunks, size);
      // Request bodies are nearly always ASCII, and decoding ASCII as latin1 is a plain copy.
      resolve(bytes.toString(isAscii(bytes) ? 'latin1' : 'utf8'));
    });
    req.on('error', reject);
  });
}

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new BadRequest(`request body is not valid JSON: ${error.message}`);
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One inference, either protocol: reads the body, then plays the model's behaviour (delay, the
 * first N requests failing) and scores. `answerError(status, message)` speaks the protocol.
 */
async function infer(model, req, res, score, answerError) {
  try {
    const text = await readBody(req);
    const { delayMs, failFirst, failStatus } = model.behaviour;
    const count = ++model.inferRequests;
    if (delayMs > 0) await sleep(delayMs);
    if (count <= failFirst)
      return answerError(
        failStatus,
        `model ${model.name} fails on purpose (behaviour.failFirst: request ${count} of the first ${failFirst})`,
      );
    send(res, 200, score(model, parseJson(text)));
  } catch (error) {
    if (error instanceof BadRequest) return answerError(error.status, error.message);
    console.error(error);
    answerError(500, `internal error: ${error.message}`);
  }
}

function createHandler(models, mlflowDefault) {
  const modelNames = [...models.keys()];
  const methodNotAllowed = (res, allowed, answerError) => {
    res.setHeader('allow', allowed);
    answerError(405, 'Method Not Allowed');
  };

  /** MLflow routes of one model: /ping, /health, /invocations below some base. */
  const mlflowRoute = (model, rest, req, res) => {
    const answer = (status, message) => mlflowError(res, status, message);
    if (rest === '/ping' || rest === '/health') {
      if (req.method !== 'GET') return methodNotAllowed(res, 'GET', answer);
      return send(res, 200, '\n');
    }
    if (rest === '/invocations') {
      if (req.method !== 'POST') return methodNotAllowed(res, 'POST', answer);
      const contentType = req.headers['content-type'];
      if (contentType !== undefined) {
        const [mime, ...params] = contentType.split(';').map((part) => part.trim().toLowerCase());
        if (mime !== 'application/json')
          return send(
            res,
            415,
            `This predictor only supports the following content types: Types: ['application/json']. Got '${contentType}'.`,
            'text/plain',
          );
        const charset = params.find((p) => p.startsWith('charset='));
        if (charset && charset !== 'charset=utf-8') return send(res, 415, 'The scoring server only supports UTF-8', 'text/plain');
      }
      return infer(model, req, res, mlflowInvoke, answer);
    }
    return answer(404, `no route ${req.method} ${req.url}`);
  };

  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    let segments;
    try {
      segments = url.pathname.split('/').slice(1).map(decodeURIComponent);
    } catch {
      return v2Error(res, 400, `bad path ${req.url}`);
    }
    const [root, second, third, fourth] = segments;
    const v2Answer = (status, message) => v2Error(res, status, message);

    if (root === 'v2') {
      if (segments.length === 1) {
        if (req.method !== 'GET') return methodNotAllowed(res, 'GET', v2Answer);
        return send(res, 200, { name: 'batchlens-example-model-server', version: '1', extensions: [] });
      }
      if (second === 'health' && segments.length === 3 && (third === 'live' || third === 'ready')) {
        if (req.method !== 'GET') return methodNotAllowed(res, 'GET', v2Answer);
        return send(res, 200);
      }
      if (second === 'models' && segments.length >= 3 && segments.length <= 4) {
        const model = models.get(third);
        if (!model) return v2Answer(404, `Model ${third} not found`);
        if (segments.length === 3) {
          if (req.method !== 'GET') return methodNotAllowed(res, 'GET', v2Answer);
          return send(res, 200, v2Metadata(model));
        }
        if (fourth === 'ready') {
          if (req.method !== 'GET') return methodNotAllowed(res, 'GET', v2Answer);
          return send(res, 200);
        }
        if (fourth === 'infer') {
          if (req.method !== 'POST') return methodNotAllowed(res, 'POST', v2Answer);
          return infer(model, req, res, v2Infer, v2Answer);
        }
      }
      return v2Answer(404, `no route ${req.method} ${url.pathname}`);
    }

    if (root === 'mlflow' && segments.length === 3) {
      const model = models.get(second);
      if (!model) return mlflowError(res, 404, `Model ${second} not found`);
      return mlflowRoute(model, `/${third}`, req, res);
    }
    if (segments.length === 1 && (root === 'ping' || root === 'health' || root === 'invocations')) {
      return mlflowRoute(models.get(mlflowDefault), url.pathname, req, res);
    }
    return v2Error(res, 404, `no route ${req.method} ${url.pathname} (models: ${modelNames.join(', ')})`);
  };
}

// --- main --------------------------------------------------------------------------------------

const options = parseArgs(process.argv.slice(2));
const models = loadModels(path.resolve(options.models));
const mlflowDefault = options.mlflowModel ?? [...models.keys()][0];
if (!models.has(mlflowDefault)) fail(`--mlflow-model ${mlflowDefault}: no such model (models: ${[...models.keys()].join(', ')})`);

const server = http.createServer(createHandler(models, mlflowDefault));
server.on('error', (error) => fail(`cannot listen on ${options.host}:${options.port}: ${error.message}`));
server.listen(options.port, options.host, () => {
  const { port } = server.address();
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  console.log(`model-server listening on http://${host}:${port} (models: ${[...models.keys()].join(', ')})`);
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
