/**
 * The CLI as users run it (node bin/medrollup.js, a real process): keystore creation, unlocking,
 * registration on a real devnet Gateway, and a clear one-line error with a non-zero status for
 * every failure.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonRpcProvider, Wallet } from 'ethers';
import { Gateway__factory } from '../contracts/types/index.js';
import { shutdownProver } from '../prover/groth16.js';
import { RollupNode } from '../prover/node.js';
import { freePort } from '../scripts/devnet/anvil.js';
import { startRedis, type RedisServer } from '../scripts/redis.js';
import { startDevnet, type Devnet } from '../scripts/devnet.js';
import { loadConfig } from '../sdk/config.js';
import { registerInstitutionCall } from '../sdk/governance.js';
import { governGateway } from './helpers/stack.js';

let dir: string;
let env: Record<string, string>;
let devnet: Devnet | undefined;
let redis: RedisServer | undefined;
let node: RollupNode | undefined;

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
  await node?.stop();
  await shutdownProver();
  await redis?.stop();
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

it('runs the record flows: upload, grant, access by the hospital, revoke, a later version refused, history, verify', async () => {
  // The node (no prove workers: soft receipts are what the CLI needs) on the devnet started above.
  redis = await startRedis({ port: await freePort() });
  const config = loadConfig({ ...env, REDIS_URL: redis.url, PROVE_WORKERS: '0', FORCED_POLL_MS: '200' });
  node = await RollupNode.start({ config, deployment: devnet!.deployment, redisUrl: redis.url, log: () => undefined });
  const hospital = ['--keystore', join(dir, 'keys', 'hospital.json')];
  expect((await cli(['keygen', ...hospital])).code).toBe(0);
  const who = (await cli(['whoami', ...hospital])).stdout;
  const [hx, hy] = [/x=(\d+)/.exec(who)![1]!, /y=(\d+)/.exec(who)![1]!];
  const hBox = /x25519 key\s+([0-9a-f]{64})/.exec(who)![1]!;
  const governance = new Wallet(config.deployerKey, new JsonRpcProvider(devnet!.deployment.settlement.rpcUrl));
  const gateway = Gateway__factory.connect(devnet!.deployment.settlement.contracts.Gateway!, governance);
  await governGateway(gateway, (g) => [registerInstitutionCall(g, { account: Wallet.createRandom().address, role: 1, pubKey: [BigInt(hx), BigInt(hy)], did: 'did:web:hospital.example' })]);
  (governance.provider as JsonRpcProvider).destroy();
  const h = 2;
  const deadline = Date.now() + 20_000;
  while (node.sequencer.publicKeyOf(h) === undefined || node.sequencer.publicKeyOf(1) === undefined) {
    if (Date.now() > deadline) throw new Error('registrations not sequenced');
    await new Promise((r) => setTimeout(r, 200));
  }

  const fhir = join(dir, 'obs.json');
  writeFileSync(fhir, JSON.stringify({ resourceType: 'Observation', status: 'final', code: { text: 'Glucose CLI-MARKER-551' }, valueQuantity: { value: 5.4, unit: 'mmol/L' } }));
  const up = await cli(['upload', fhir, '--record-id', 'glucose']);
  expect(up.code).toBe(0);
  expect(up.stdout).toMatch(/^record glucose version 1: b/m);
  const granted = await cli(['grant', '--to', String(h), '--x25519', hBox, '--scope', 'read']);
  expect(granted.code).toBe(0);
  const indexOf = (text: string) => /index (b[a-z2-7]+)/.exec(text)![1]!;
  let index = indexOf(granted.stdout);
  expect((await cli(['verify', '--patient', '1', '--index', index])).code).toBe(0);

  const read = await cli(['access', ...hospital, '--account', String(h), '--patient', '1', '--index', index, '--record-id', 'glucose']);
  expect(read.code).toBe(0);
  expect(read.stdout).toContain('CLI-MARKER-551');
  expect(read.stderr).toMatch(/access logged in L2 batch \d+/);

  index = indexOf((await cli(['revoke', '--to', String(h)])).stdout);
  const v2 = await cli(['upload', fhir, '--record-id', 'glucose']);
  expect(v2.stdout).toMatch(/^record glucose version 2/m);
  index = indexOf(v2.stdout);
  const refused = await cli(['access', ...hospital, '--patient', '1', '--index', index, '--record-id', 'glucose', '--version', '2']);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toMatch(/^medrollup: NO_CONSENT: /m);
  expect(refused.stdout).not.toContain('CLI-MARKER-551');

  const history = await cli(['history']);
  expect(history.code).toBe(0);
  expect(history.stdout).toContain('glucose v1');
  expect(history.stdout).toContain('glucose v2');
  const stale = await cli(['verify', '--patient', '1', '--index', indexOf(granted.stdout)]);
  expect(stale.code).toBe(1);
  expect(stale.stderr).toMatch(/INDEX_MISMATCH/);
}, 180_000);
