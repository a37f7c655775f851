/**
 * `npx medrollup <command>`: what patients and institutions run. Every failure prints one line
 * `medrollup: <CODE>: <message>` and exits non-zero (2 for usage errors); DEBUG=1 adds the stack.
 * Secrets never reach the output: the seed stays in the keystore, the passphrase comes from
 * MEDROLLUP_PASSPHRASE or a hidden terminal prompt.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { bytesToHex } from '@noble/hashes/utils.js';
import { JsonRpcProvider, Wallet } from 'ethers';
import { Gateway__factory } from '../../contracts/types/index.js';
import { loadConfig, type Config } from '../config.js';
import { csvToBundles, generateSyntheticCsv, validateJson } from '../fhir/index.js';
import { readDeployment } from '../deployment.js';
import { decryptKeystore, deriveKeys, encryptKeystore, generateSeed, readKeystore, writeKeystore, type DerivedKeys } from '../keys.js';

class UsageError extends Error {
  readonly code = 'USAGE';
}

const COMMANDS: Record<string, { summary: string; run: (args: string[], ctx: Context) => Promise<void> }> = {};

interface Context {
  readonly config: Config;
  readonly out: (line: string) => void;
  readonly progress: (line: string) => void;
}

const USAGE = (): string => `Usage: npx medrollup <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`)
  .join('\n')}

Common options:
  --keystore <file>   the keystore (default $DATA_DIR/keys/default.json)
  --sequencer <url>   the sequencer (default http://SEQUENCER_HOST:SEQUENCER_PORT)
Environment: MEDROLLUP_PASSPHRASE (else asked on the terminal), DATA_DIR, DEPLOYMENT_FILE, DEBUG=1.`;

function keystorePath(config: Config, given: string | undefined): string {
  return resolve(given ?? join(config.dataDir, 'keys', 'default.json'));
}

function sequencerUrl(config: Config, given: string | undefined): string {
  return (given ?? `http://${config.rollup.sequencerHost}:${config.rollup.sequencerPort}`).replace(/\/$/, '');
}

/** The passphrase from MEDROLLUP_PASSPHRASE, or asked without echo on a terminal. */
async function passphrase(prompt: string): Promise<string> {
  const fromEnv = process.env.MEDROLLUP_PASSPHRASE;
  if (fromEnv) return fromEnv;
  if (!process.stdin.isTTY) throw new UsageError('no passphrase: set MEDROLLUP_PASSPHRASE (there is no terminal to ask on)');
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  const muted = rl as unknown as { _writeToOutput: (s: string) => void };
  process.stderr.write(prompt);
  muted._writeToOutput = () => undefined; // hide what is typed
  try {
    return await new Promise<string>((r) => rl.question('', r));
  } finally {
    rl.close();
    process.stderr.write('\n');
  }
}

async function unlock(config: Config, file: string | undefined): Promise<DerivedKeys> {
  const path = keystorePath(config, file);
  const ks = await readKeystore(path);
  return deriveKeys(await decryptKeystore(ks, await passphrase(`passphrase for ${path}: `)));
}

function keySummary(keys: DerivedKeys): string[] {
  return [`  babyjubjub key  x=${keys.signingKey.x}`, `                  y=${keys.signingKey.y}`, `  x25519 key      ${bytesToHex(keys.boxPublic)}`];
}

COMMANDS.keygen = {
  summary: 'create a keystore: one seed for the rollup signing key and the key-wrapping key',
  async run(args, { config, out, progress }) {
    const { values } = parseArgs({ args, options: { keystore: { type: 'string' }, force: { type: 'boolean', default: false } }, strict: true });
    const path = keystorePath(config, values.keystore);
    if (existsSync(path) && !values.force) throw new UsageError(`${path} exists: it may hold the only copy of a seed (use --force to replace it)`);
    const pass = await passphrase('new passphrase: ');
    if (pass.length < 8) throw new UsageError('the passphrase must have at least 8 characters');
    const seed = generateSeed();
    progress('deriving the keystore key (scrypt, about a second) ...');
    const file = await encryptKeystore(seed, pass);
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    await writeKeystore(path, file, { overwrite: values.force });
    out(`wrote ${path} (mode 0600)`);
    for (const line of keySummary(deriveKeys(seed))) out(line);
  },
};

COMMANDS.whoami = {
  summary: 'show the public keys of a keystore',
  async run(args, { config, out }) {
    const { values } = parseArgs({ args, options: { keystore: { type: 'string' } }, strict: true });
    for (const line of keySummary(await unlock(config, values.keystore))) out(line);
  },
};

COMMANDS.register = {
  summary: 'register as a patient on the Gateway (an L1 transaction); prints the account index',
  async run(args, { config, out, progress }) {
    const { values } = parseArgs({ args, options: { keystore: { type: 'string' }, 'l1-key': { type: 'string' } }, strict: true });
    const keys = await unlock(config, values.keystore);
    const deployment = readDeployment(config.deploymentFile);
    const provider = new JsonRpcProvider(deployment.settlement.rpcUrl, deployment.settlement.chainId, { staticNetwork: true });
    try {
      // The L1 account pays gas and controls the registration; on the devnet the deployer's.
      const payer = new Wallet(values['l1-key'] ?? process.env.L1_PRIVATE_KEY ?? config.deployerKey, provider);
      const gateway = Gateway__factory.connect(deployment.settlement.contracts.Gateway!, payer);
      progress(`sending Gateway.registerPatient from ${payer.address} ...`);
      const receipt = await (await gateway.registerPatient(keys.signingKey.x, keys.signingKey.y, payer.address)).wait();
      const event = receipt?.logs.map((l) => gateway.interface.parseLog(l)).find((e) => e?.name === 'PatientRegistered');
      if (!event) throw new Error('the registration transaction emitted no PatientRegistered event');
      out(`patient account ${String(event.args.accountIndex)} registered in L1 block ${receipt!.blockNumber} (tx ${receipt!.hash})`);
      out('the sequencer applies it from the Gateway queue in its next batch; check with: npx medrollup account --account <index>');
    } finally {
      provider.destroy();
    }
  },
};

COMMANDS.account = {
  summary: "show an account's L2 state (key, nonce, index hash, consents) from the sequencer",
  async run(args, { config, out }) {
    const { values } = parseArgs({ args, options: { account: { type: 'string' }, sequencer: { type: 'string' } }, strict: true });
    if (!values.account || !/^\d+$/.test(values.account)) throw new UsageError('--account <index> is required');
    const url = `${sequencerUrl(config, values.sequencer)}/v1/accounts/${values.account}`;
    const res = await fetchJson(url);
    out(JSON.stringify(res, null, 2));
  },
};

COMMANDS.receipt = {
  summary: 'show the soft or final receipt of a transaction (its L2 batch and L1 block)',
  async run(args, { config, out }) {
    const { values, positionals } = parseArgs({ args, options: { sequencer: { type: 'string' } }, allowPositionals: true, strict: true });
    const hash = positionals[0];
    if (!hash || !/^0x[0-9a-fA-F]{64}$/.test(hash)) throw new UsageError('usage: medrollup receipt <0x transaction hash>');
    out(JSON.stringify(await fetchJson(`${sequencerUrl(config, values.sequencer)}/v1/transactions/${hash}`), null, 2));
  },
};

COMMANDS.validate = {
  summary: 'check FHIR R4 JSON files (resources or Bundles) on this machine; lists every issue',
  async run(args, { out }) {
    const { positionals } = parseArgs({ args, options: {}, allowPositionals: true, strict: true });
    if (positionals.length === 0) throw new UsageError('usage: medrollup validate <file.json> ...');
    let failed = 0;
    for (const file of positionals) {
      const r = validateJson(readFileSync(file, 'utf8'));
      if (r.valid) {
        out(`${file}: valid ${r.resource?.resourceType ?? ''}`);
        continue;
      }
      failed++;
      out(`${file}: ${r.issues.length} issue(s)`);
      for (const i of r.issues) out(`  ${i.path}: ${i.message}`);
    }
    if (failed > 0) throw new CliFailure('FHIR_INVALID', `${failed} of ${positionals.length} file(s) are not valid FHIR R4`);
  },
};

COMMANDS['import-csv'] = {
  summary: "turn the paper's dataset CSV into FHIR Bundles (one JSON file per row in --out)",
  async run(args, { out, progress }) {
    const { values, positionals } = parseArgs({
      args,
      options: { out: { type: 'string' }, 'skip-bad-rows': { type: 'boolean', default: false }, currency: { type: 'string' } },
      allowPositionals: true,
      strict: true,
    });
    const [file] = positionals;
    if (!file || !values.out) throw new UsageError('usage: medrollup import-csv <file.csv> --out <dir> [--skip-bad-rows] [--currency EUR]');
    const result = csvToBundles(readFileSync(file, 'utf8'), { onInvalidRow: values['skip-bad-rows'] ? 'skip' : 'throw', ...(values.currency ? { currency: values.currency } : {}) });
    mkdirSync(values.out, { recursive: true });
    for (const row of result.rows) writeFileSync(join(values.out, `row-${row.line}.json`), `${JSON.stringify(row.bundle, null, 2)}\n`);
    for (const s of result.skipped) progress(`skipped line ${s.line}: ${s.issues.map((i) => i.message).join('; ')}`);
    out(`wrote ${result.rows.length} Bundle(s) to ${values.out}${result.skipped.length ? `, skipped ${result.skipped.length} row(s)` : ''}`);
  },
};

COMMANDS['generate-csv'] = {
  summary: 'write synthetic test data in the dataset CSV format (deterministic for a seed)',
  async run(args, { out }) {
    const { values } = parseArgs({ args, options: { rows: { type: 'string', default: '100' }, seed: { type: 'string', default: '1' }, out: { type: 'string' } }, strict: true });
    const rows = Number(values.rows);
    if (!Number.isSafeInteger(rows) || rows < 1) throw new UsageError('--rows must be a positive integer');
    const csv = generateSyntheticCsv({ rows, seed: Number(values.seed) });
    if (values.out) {
      writeFileSync(values.out, csv);
      out(`wrote ${rows} row(s) to ${values.out}`);
    } else process.stdout.write(csv);
  },
};

class CliFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

class RemoteError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function fetchJson(url: string): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    throw new RemoteError('UNAVAILABLE', `${url}: ${(err as Error).message} (is the sequencer running? npm start)`);
  }
  const body = (await res.json().catch(() => undefined)) as { error?: { code?: string; message?: string } } | undefined;
  if (!res.ok) throw new RemoteError(body?.error?.code ?? `HTTP_${res.status}`, body?.error?.message ?? `${url} answered ${res.status}`);
  return body;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '-h' || command === '--help' || command === 'help') {
    console.log(USAGE());
    return command ? 0 : 2;
  }
  const cmd = COMMANDS[command];
  try {
    if (!cmd) throw new UsageError(`unknown command "${command}" (see npx medrollup --help)`);
    const config = loadConfig();
    await cmd.run(rest, { config, out: (l) => console.log(l), progress: (l) => console.error(`medrollup: ${l}`) });
    return 0;
  } catch (err) {
    const e = err as { code?: unknown; message?: string; stack?: string };
    const code = typeof e.code === 'string' ? e.code : 'ERROR';
    const message = (e.message ?? String(err)).replace(new RegExp(`^${code}: `), '');
    console.error(`medrollup: ${code}: ${message}`);
    if (process.env.DEBUG === '1' && e.stack) console.error(e.stack);
    return err instanceof UsageError || code.startsWith('ERR_PARSE_ARGS') ? 2 : 1;
  }
}
