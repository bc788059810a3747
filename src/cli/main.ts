import { parseArgs } from 'node:util';
import { type CliIo, DEFAULT_URL, EXIT, type PredictArgs, predict } from './predict.js';

// The `batchlens` command (bin/batchlens.mjs): argument parsing and the process around it
// (signals, exit code). The commands themselves take their arguments, environment and streams as
// parameters, so tests can run them in-process too.

export const USAGE = `Usage: batchlens predict <input.csv> <output.csv> --deployment <id> [options]

Scores a CSV file with a deployment's model through a batch prediction job on a batchlens server
(its REST API, /api/v2/batchPredictions/), streaming the output into <output.csv> as it is scored.
The predictions are monitored in a new monitoring batch of the deployment.

Options:
  -d, --deployment <id>              the deployment (required)
  --monitoring-batch-prefix <text>   name the job's monitoring batch "<text> - <timestamp>"
  --passthrough <col,col>            copy these input columns into the output (repeatable)
  --passthrough-all                  copy every input column into the output
  --concurrency <n>                  chunks scored at once (numConcurrent, 1-32; server default 4)
  --chunk-size <bytes|auto>          input bytes per chunk (server default auto: 1 MB)
  --url <url>                        the server (env BATCHLENS_URL; default ${DEFAULT_URL})
  --token <token>                    an API token (env BATCHLENS_TOKEN)
  -h, --help                         this help

Progress goes to stderr: a bar in a terminal, a line now and then otherwise. Ctrl-C aborts the
job on the server and leaves no output file.

Exit codes: 0 the job completed; 1 it failed or was aborted, or the server refused it; 2 bad usage;
130 interrupted (SIGINT; 143 SIGTERM).
`;

function usageError(io: CliIo, message: string): number {
  io.stderr.write(`error: ${message}\nRun "batchlens predict --help" for usage.\n`);
  return EXIT.usage;
}

function positiveInt(value: string): number | null {
  return /^[0-9]+$/.test(value) && Number(value) >= 1 && Number.isSafeInteger(Number(value)) ? Number(value) : null;
}

/** `batchlens <argv…>`: answers the exit code. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    io.stdout.write(USAGE);
    return command === undefined ? EXIT.usage : EXIT.ok;
  }
  if (command !== 'predict') return usageError(io, `unknown command "${command}" (the only one is "predict")`);

  let parsed: ReturnType<typeof parsePredict>;
  try {
    parsed = parsePredict(rest);
  } catch (error) {
    return usageError(io, (error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout.write(USAGE);
    return EXIT.ok;
  }
  if (positionals.length !== 2) return usageError(io, `expected <input.csv> <output.csv>, got ${positionals.length} file arguments`);
  if (!values.deployment) return usageError(io, '--deployment <id> is required');
  const passthroughColumns = (values.passthrough ?? [])
    .flatMap((list) => list.split(','))
    .map((c) => c.trim())
    .filter(Boolean);
  if (values['passthrough-all'] && passthroughColumns.length)
    return usageError(io, 'give either --passthrough or --passthrough-all, not both');
  const args: PredictArgs = {
    input: positionals[0]!,
    output: positionals[1]!,
    deploymentId: values.deployment,
    ...(values.url !== undefined ? { url: values.url } : {}),
    ...(values.token !== undefined ? { token: values.token } : {}),
    ...(values['monitoring-batch-prefix'] !== undefined ? { monitoringBatchPrefix: values['monitoring-batch-prefix'] } : {}),
    ...(passthroughColumns.length ? { passthroughColumns } : {}),
    ...(values['passthrough-all'] ? { passthroughAll: true } : {}),
  };
  if (values.concurrency !== undefined) {
    const n = positiveInt(values.concurrency);
    if (n === null) return usageError(io, `--concurrency must be a positive integer, got "${values.concurrency}"`);
    args.concurrency = n;
  }
  if (values['chunk-size'] !== undefined) {
    const size = values['chunk-size'];
    const n = positiveInt(size);
    if (n === null && size !== 'auto' && size !== 'fixed' && size !== 'dynamic') {
      return usageError(io, `--chunk-size must be a number of bytes or auto, got "${size}"`);
    }
    args.chunkSize = n ?? (size as 'auto' | 'fixed' | 'dynamic');
  }
  if (args.input === args.output) return usageError(io, 'the output file must not be the input file');
  return predict(args, io);
}

function parsePredict(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      deployment: { type: 'string', short: 'd' },
      'monitoring-batch-prefix': { type: 'string' },
      passthrough: { type: 'string', multiple: true },
      'passthrough-all': { type: 'boolean' },
      concurrency: { type: 'string' },
      'chunk-size': { type: 'string' },
      url: { type: 'string' },
      token: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

/**
 * The process: argv and environment, stdout / stderr, SIGINT and SIGTERM. The first signal
 * interrupts the command (which aborts its job); a second one exits at once.
 */
export async function runProcess(): Promise<never> {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(signal === 'SIGTERM' ? EXIT.sigterm : EXIT.sigint);
    controller.abort(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const code = await main(process.argv.slice(2), {
    env: process.env,
    stdout: process.stdout,
    stderr: process.stderr,
    interrupt: controller.signal,
  });
  // Exit once stdout and stderr have flushed (pipes may be asynchronous): idle keep-alive
  // connections would otherwise hold the process for a while.
  await Promise.all([process.stdout, process.stderr].map((stream) => new Promise((resolve) => stream.write('', resolve))));
  process.exit(code);
}
