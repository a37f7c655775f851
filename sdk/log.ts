/**
 * Service logs (pino). LOG_FORMAT=text keeps the terminal lines every script printed before
 * (`[service] message`, warnings and errors on stderr); LOG_FORMAT=json writes one pino object per
 * line ({level, time, service, msg, ...}) for a log pipeline such as docker compose's or Loki.
 *
 * Services log what happened to batches, jobs, roots and requests: counts, indexes, hashes,
 * addresses, durations. They never receive plaintext health data (records are encrypted on the
 * client), and the fields below are censored anyway, so a careless `log.info({ record }, ...)`
 * cannot put a payload, a key or a token into a log line.
 */
import { pino, type Logger, type LevelWithSilent } from 'pino';
import { logConfig, type LogConfig } from './config.js';

/** Field names whose values never reach a log line, at the top level or one object down. */
export const REDACTED_FIELDS = [
  'plaintext',
  'record',
  'resource',
  'fhir',
  'payload',
  'ciphertext',
  'privateKey',
  'key',
  'secret',
  'token',
  'authorization',
  'password',
  'mnemonic',
] as const;

const CENSOR = '[redacted]';

export interface LogSink {
  write(line: string): unknown;
}

export interface LoggerOptions {
  /** Defaults to LOG_FORMAT / LOG_LEVEL from the environment. */
  readonly config?: LogConfig;
  /** Where text lines go; default process.stdout (debug, info) and process.stderr (warn, error). */
  readonly stdout?: LogSink;
  readonly stderr?: LogSink;
}

export type ServiceLogger = Logger;

/** pino levels as numbers: warn and above go to stderr in text mode. */
const WARN = 40;

function textSink(stdout: LogSink, stderr: LogSink): LogSink {
  return {
    write(json: string) {
      const entry = JSON.parse(json) as { level: number; service?: string; msg?: string; err?: { message?: string } };
      const msg = entry.msg ?? entry.err?.message ?? '';
      const line = entry.service ? `[${entry.service}] ${msg}\n` : `${msg}\n`;
      (entry.level >= WARN ? stderr : stdout).write(line);
    },
  };
}

/** The logger of one service process (`service` names it in every line: sequencer, prover, validator-2 ...). */
export function createLogger(service: string, options: LoggerOptions = {}): ServiceLogger {
  const config = options.config ?? logConfig();
  const paths = REDACTED_FIELDS.flatMap((f) => [f, `*.${f}`]);
  const base = {
    level: config.level as LevelWithSilent,
    base: { service },
    redact: { paths, censor: CENSOR },
    formatters: { level: (label: string, number: number) => (config.format === 'json' ? { level: label } : { level: number }) },
  };
  if (config.format === 'json') {
    const sink = options.stdout ?? process.stdout;
    return pino({ ...base, timestamp: pino.stdTimeFunctions.isoTime }, sink);
  }
  return pino({ ...base, timestamp: false }, textSink(options.stdout ?? process.stdout, options.stderr ?? process.stderr));
}

/** The `(line) => void` callback the library modules take, at info level. */
export function lineLog(logger: ServiceLogger): (line: string) => void {
  return (line) => logger.info(line);
}
