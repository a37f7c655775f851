/**
 * The CLI as users run it (node bin/medrollup.js, a real process): keystore creation, unlocking,
 * registration on a real devnet Gateway, and a clear one-line error with a non-zero status for
 * every failure.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../scripts/devnet/anvil.js';
import { startDevnet, type Devnet } from '../scripts/devnet.js';
import { loadConfig } from '../sdk/config.js';

let dir: string;
let env: Record<string, string>;
let devnet: Devnet | undefined;

function cli(args: string[], extra: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/medrollup.js', ...args], { env: { ...process.env, ...env, ...extra }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cli-test-'));
  env = {
    DATA_DIR: dir,
    CIRCUIT_PROFILE: 'test',
    SETTLEMENT_PORT: String(await freePort()),
    PARTNER_PORT: String(await freePort()),
    SEQUENCER_PORT: String(await freePort()),
    MEDROLLUP_PASSPHRASE: 'correct horse battery',
  };
});

afterAll(async () => {
  await devnet?.stop();
  rmSync(dir, { recursive: true, force: true });
});

it('creates a keystore (mode 0600), refuses to overwrite it, and unlocks it only with the passphrase', async () => {
  const created = await cli(['keygen']);
  expect(created.code).toBe(0);
  const path = join(dir, 'keys', 'default.json');
  expect(created.stdout).toContain(`wrote ${path}`);
  expect(statSync(path).mode & 0o777).toBe(0o600);
  expect(created.stdout).not.toContain('correct horse'); // no secret in the output

  const again = await cli(['keygen']);
  expect(again.code).toBe(2);
  expect(again.stderr).toMatch(/^medrollup: USAGE: .*exists/m);

  const me = await cli(['whoami']);
  expect(me.code).toBe(0);
  expect(me.stdout).toContain(created.stdout.split('\n').find((l) => l.includes('x25519'))!.trim());

  const wrong = await cli(['whoami'], { MEDROLLUP_PASSPHRASE: 'wrong passphrase' });
  expect(wrong.code).toBe(1);
  expect(wrong.stderr).toMatch(/^medrollup: WRONG_PASSPHRASE: /m);
}, 60_000);

it('answers usage errors with status 2 and an unreachable sequencer with UNAVAILABLE', async () => {
  expect((await cli(['frobnicate'])).code).toBe(2);
  const badOption = await cli(['whoami', '--nope']);
  expect(badOption.code).toBe(2);
  expect(badOption.stderr).toMatch(/^medrollup: ERR_PARSE_ARGS_UNKNOWN_OPTION: /m);
  const down = await cli(['account', '--account', '1']);
  expect(down.code).toBe(1);
  expect(down.stderr).toMatch(/^medrollup: UNAVAILABLE: .*is the sequencer running/m);
  const noPass = await cli(['whoami'], { MEDROLLUP_PASSPHRASE: '' });
  expect(noPass.code).toBe(2);
  expect(noPass.stderr).toContain('set MEDROLLUP_PASSPHRASE');
}, 60_000);

it('generates the dataset CSV, imports it into FHIR Bundles and validates them; invalid FHIR is listed with paths', async () => {
  const csv = join(dir, 'data.csv');
  expect((await cli(['generate-csv', '--rows', '5', '--seed', '7', '--out', csv])).code).toBe(0);
  const bundles = join(dir, 'bundles');
  const imported = await cli(['import-csv', csv, '--out', bundles]);
  expect(imported.code).toBe(0);
  expect(imported.stdout).toContain('wrote 5 Bundle(s)');
  const files = readdirSync(bundles).map((f) => join(bundles, f));
  const ok = await cli(['validate', ...files]);
  expect(ok.code).toBe(0);
  expect(ok.stdout.match(/valid Bundle/g)).toHaveLength(5);

  const bad = join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ resourceType: 'Observation', status: 'maybe', code: { text: 'x' } }));
  const refused = await cli(['validate', bad]);
  expect(refused.code).toBe(1);
  expect(refused.stdout).toContain('Observation.status');
  expect(refused.stderr).toMatch(/^medrollup: FHIR_INVALID: 1 of 1 file\(s\)/m);
}, 60_000);

it('registers the keystore as a patient on the devnet Gateway', async () => {
  devnet = await startDevnet(loadConfig(env), { build: false, log: () => undefined });
  const r = await cli(['register']);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^patient account 1 registered in L1 block \d+/m);
}, 120_000);
