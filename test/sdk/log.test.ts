/**
 * Service logs (sdk/log.ts): the text format keeps the `[service] message` lines scripts and tests
 * rely on, warnings and errors on stderr; the json format writes one pino object per line; fields
 * that could carry health data, keys or tokens are censored in both.
 */
import { createLogger, REDACTED_FIELDS } from '../../sdk/log.js';

function sinks() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: { write: (l: string) => out.push(l) }, stderr: { write: (l: string) => err.push(l) } };
}

it('text: [service] lines, info on stdout, warn and error on stderr, below the level dropped', () => {
  const s = sinks();
  const log = createLogger('sequencer', { config: { format: 'text', level: 'info' }, stdout: s.stdout, stderr: s.stderr });
  log.debug('not shown');
  log.info('running — Ctrl-C to stop');
  log.warn('slow prover');
  log.error(new Error('boom'));
  expect(s.out).toEqual(['[sequencer] running — Ctrl-C to stop\n']);
  expect(s.err).toEqual(['[sequencer] slow prover\n', '[sequencer] boom\n']);
});

it('json: one object per line with level name, ISO time, service and msg', () => {
  const s = sinks();
  const log = createLogger('relayer', { config: { format: 'json', level: 'debug' }, stdout: s.stdout });
  log.debug({ batch: 3 }, 'delivered');
  log.error(new Error('unreachable'), 'tick failed');
  const [a, b] = s.out.map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(a).toMatchObject({ level: 'debug', service: 'relayer', batch: 3, msg: 'delivered' });
  expect(new Date(a!.time as string).toISOString()).toBe(a!.time);
  expect(b).toMatchObject({ level: 'error', service: 'relayer', msg: 'tick failed', err: { message: 'unreachable' } });
  expect(s.out.every((l) => l.endsWith('\n') && !l.slice(0, -1).includes('\n'))).toBe(true);
});

it('censors payload, key and token fields at the top level and one object down, in both formats', () => {
  const secret = 'Patient: Jane Doe, HIV positive';
  for (const format of ['json', 'text'] as const) {
    const s = sinks();
    const log = createLogger('api', { config: { format, level: 'info' }, stdout: s.stdout, stderr: s.stderr });
    const fields = Object.fromEntries(REDACTED_FIELDS.map((f) => [f, secret]));
    log.info({ ...fields, nested: { ...fields }, batch: 7 }, 'request');
    const written = [...s.out, ...s.err].join('');
    expect(written).not.toContain('Jane Doe');
    if (format === 'json') {
      const entry = JSON.parse(s.out[0]!) as Record<string, unknown>;
      expect(entry.batch).toBe(7);
      for (const f of REDACTED_FIELDS) expect([entry[f], (entry.nested as Record<string, unknown>)[f]]).toEqual(['[redacted]', '[redacted]']);
    }
  }
});

it('reads LOG_FORMAT and LOG_LEVEL from the environment by default', () => {
  const saved = { format: process.env.LOG_FORMAT, level: process.env.LOG_LEVEL };
  try {
    process.env.LOG_FORMAT = 'json';
    process.env.LOG_LEVEL = 'error';
    const s = sinks();
    const log = createLogger('prover', { stdout: s.stdout });
    log.warn('dropped');
    log.error('kept');
    expect(s.out.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(['kept']);
    process.env.LOG_FORMAT = 'xml';
    expect(() => createLogger('prover')).toThrow('LOG_FORMAT must be text or json, got "xml"');
  } finally {
    for (const [k, v] of [['LOG_FORMAT', saved.format], ['LOG_LEVEL', saved.level]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
});
