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
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { JsonRpcProvider, Wallet } from 'ethers';
import { Gateway__factory } from '../../contracts/types/index.js';
import { loadConfig, type Config } from '../config.js';
import { csvToBundles, generateSyntheticCsv, validateJson } from '../fhir/index.js';
import { readDeployment } from '../deployment.js';
import { Scope } from '../../prover/codec.js';
import { InstitutionSession, PatientSession, verifyIndexCid } from '../records.js';
import { signInToApi } from '../apiClient.js';
import { RollupClient } from '../rollupClient.js';
import { openStorage, type BlockStorage } from '../storage.js';
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
  --api <url>         the GraphQL API, for session (default http://API_HOST:API_PORT/graphql)
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
      const keystore = keystorePath(config, values.keystore);
      writeState(keystore, { ...readState(keystore), account: Number(event.args.accountIndex) });
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

COMMANDS.session = {
  summary: 'sign in to the GraphQL API with the account key; prints a session token (a credential: keep it private)',
  async run(args, { config, out, progress }) {
    const { values } = parseArgs({ args, options: { keystore: { type: 'string' }, account: { type: 'string' }, api: { type: 'string' } }, strict: true });
    const keystore = keystorePath(config, values.keystore);
    const account = values.account !== undefined ? Number(values.account) : readState(keystore).account;
    if (account === undefined || !Number.isSafeInteger(account) || account < 0) throw new UsageError('--account <index> is required (or register first: it is remembered next to the keystore)');
    const keys = await unlock(config, values.keystore);
    const url = (values.api ?? `http://${config.api.host}:${config.api.port}/graphql`).replace(/\/$/, '');
    progress(`signing in to ${url} as account ${account} ...`);
    const session = await signInToApi(url, account, keys.signingSecret);
    progress(`${session.role} account ${session.account}, valid until ${new Date(session.expiresAt * 1000).toISOString()}; send it as "Authorization: Bearer <token>"`);
    out(session.token);
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

// ---------------------------------------------------------------------------------------------
// Records: the flows of sdk/records.ts. The patient's account and latest index CID are kept next
// to the keystore (<keystore>.state.json: no secrets) so each command continues the chain.

interface PartyState {
  account?: number;
  indexCid?: string;
}

const statePath = (keystore: string): string => keystore.replace(/\.json$/, '') + '.state.json';

function readState(keystore: string): PartyState {
  const path = statePath(keystore);
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as PartyState) : {};
}

function writeState(keystore: string, state: PartyState): void {
  writeFileSync(statePath(keystore), `${JSON.stringify(state, null, 2)}\n`);
}

const RECORD_OPTIONS = { keystore: { type: 'string' }, sequencer: { type: 'string' }, account: { type: 'string' } } as const;

interface Party {
  keys: DerivedKeys;
  account: number;
  keystore: string;
  state: PartyState;
  storage: BlockStorage;
  rollup: RollupClient;
}

async function party(config: Config, values: { keystore?: string; sequencer?: string; account?: string }, progress: (l: string) => void): Promise<Party> {
  const keystore = keystorePath(config, values.keystore);
  const state = readState(keystore);
  const account = values.account !== undefined ? Number(values.account) : state.account;
  if (account === undefined || !Number.isSafeInteger(account) || account < 1) throw new UsageError('--account <index> is required once (it is remembered next to the keystore)');
  const keys = await unlock(config, values.keystore);
  if (state.account !== account) writeState(keystore, { ...state, account });
  progress(`opening record storage (${config.ipfs.apiUrl ? `Kubo at ${config.ipfs.apiUrl}` : `embedded IPFS in ${config.ipfs.dir}`}) ...`);
  const storage = await openStorage(config);
  return { keys, account, keystore, state: { ...state, account }, storage, rollup: new RollupClient(sequencerUrl(config, values.sequencer)) };
}

async function withParty<T>(config: Config, values: { keystore?: string; sequencer?: string; account?: string }, progress: (l: string) => void, f: (p: Party) => Promise<T>): Promise<T> {
  const p = await party(config, values, progress);
  try {
    return await f(p);
  } finally {
    await p.storage.close();
  }
}

async function patientSession(p: Party): Promise<PatientSession> {
  return PatientSession.open({ keys: p.keys, account: p.account, storage: p.storage, rollup: p.rollup, ...(p.state.indexCid ? { indexCid: p.state.indexCid } : {}) });
}

function readJsonFile(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new CliFailure('BAD_INPUT', `${file}: ${(err as Error).message}`);
  }
}

const SCOPES: Record<string, number> = { read: Scope.Read, claim: Scope.Claim, 'read,claim': Scope.Read | Scope.Claim, 'claim,read': Scope.Read | Scope.Claim };

COMMANDS.upload = {
  summary: 'encrypt a FHIR resource or Bundle, store it on IPFS, anchor the new index on the rollup (a new version with --record-id of an existing record)',
  async run(args, { config, out, progress }) {
    const { values, positionals } = parseArgs({ args, options: { ...RECORD_OPTIONS, 'record-id': { type: 'string' } }, allowPositionals: true, strict: true });
    const [file] = positionals;
    if (!file) throw new UsageError('usage: medrollup upload <fhir.json> [--record-id ID] [--account N]');
    const resource = readJsonFile(file);
    await withParty(config, values, progress, async (p) => {
      const session = await patientSession(p);
      const existing = values['record-id'] && session.index?.records.some((r) => r.recordId === values['record-id']);
      progress('validating, encrypting and storing ...');
      const r = existing ? await session.update(values['record-id']!, resource) : await session.upload(resource, values['record-id'] ? { recordId: values['record-id'] } : {});
      writeState(p.keystore, { ...p.state, indexCid: r.indexCid });
      out(`record ${r.recordId} version ${r.version}: ${r.cid}`);
      out(`index ${r.indexCid} (L2 batch ${r.tx.batch}, tx ${r.tx.txHash})`);
    });
  },
};

COMMANDS.grant = {
  summary: "grant an institution a consent and wrap every version's key for it",
  async run(args, { config, out, progress }) {
    const { values } = parseArgs({ args, options: { ...RECORD_OPTIONS, to: { type: 'string' }, x25519: { type: 'string' }, scope: { type: 'string', default: 'read' }, days: { type: 'string', default: '30' } }, strict: true });
    const scope = SCOPES[values.scope!];
    if (!values.to || !/^\d+$/.test(values.to) || !values.x25519 || !/^(0x)?[0-9a-fA-F]{64}$/.test(values.x25519) || scope === undefined) {
      throw new UsageError('usage: medrollup grant --to <account> --x25519 <hex key of the grantee> [--scope read|claim|read,claim] [--days 30]');
    }
    const days = Number(values.days);
    if (!Number.isSafeInteger(days) || days < 1) throw new UsageError('--days must be a positive integer');
    await withParty(config, values, progress, async (p) => {
      const session = await patientSession(p);
      const expiry = BigInt(Math.floor(Date.now() / 1000) + days * 86_400);
      const r = await session.grant({ account: Number(values.to), x25519Public: hexToBytes(values.x25519!.replace(/^0x/, '')) }, scope, expiry);
      writeState(p.keystore, { ...p.state, indexCid: r.indexCid });
      out(`granted account ${values.to} (${values.scope}) in consent slot ${r.slot} until ${new Date(Number(expiry) * 1000).toISOString()} (tx ${r.grantTx.txHash})`);
      out(`index ${r.indexCid}`);
    });
  },
};

COMMANDS.revoke = {
  summary: 'revoke a consent; later versions are no longer wrapped for that account',
  async run(args, { config, out, progress }) {
    const { values } = parseArgs({ args, options: { ...RECORD_OPTIONS, to: { type: 'string' } }, strict: true });
    if (!values.to || !/^\d+$/.test(values.to)) throw new UsageError('usage: medrollup revoke --to <account>');
    await withParty(config, values, progress, async (p) => {
      const r = await (await patientSession(p)).revoke(Number(values.to));
      writeState(p.keystore, { ...p.state, indexCid: r.indexCid });
      out(`revoked account ${values.to} (tx ${r.revokeTx.txHash}); index ${r.indexCid}`);
    });
  },
};

COMMANDS.access = {
  summary: "read a patient's record as an institution: the access is logged on the rollup first, then decrypted here",
  async run(args, { config, out, progress }) {
    const { values } = parseArgs({ args, options: { ...RECORD_OPTIONS, patient: { type: 'string' }, index: { type: 'string' }, 'record-id': { type: 'string' }, version: { type: 'string' }, out: { type: 'string' } }, strict: true });
    if (!values.patient || !values.index || !values['record-id']) throw new UsageError('usage: medrollup access --patient <account> --index <index CID> --record-id ID [--version V] [--out file]');
    await withParty(config, values, progress, async (p) => {
      const session = new InstitutionSession({ keys: p.keys, account: p.account, storage: p.storage, rollup: p.rollup });
      const r = await session.access(Number(values.patient), values.index!, values['record-id']!, values.version === undefined ? undefined : Number(values.version));
      progress(`access logged in L2 batch ${r.tx.batch} (tx ${r.tx.txHash})`);
      if (values.out) {
        writeFileSync(values.out, r.plaintext, { mode: 0o600 });
        out(`record ${r.recordId} version ${r.version} (${r.entry.resourceType}) decrypted to ${values.out}`);
      } else out(new TextDecoder().decode(r.plaintext));
    });
  },
};

COMMANDS.claim = {
  summary: 'file an insurance claim referencing a record version (needs a claim consent)',
  async run(args, { config, out, progress }) {
    const { values } = parseArgs({ args, options: { ...RECORD_OPTIONS, patient: { type: 'string' }, 'record-id': { type: 'string' }, version: { type: 'string' } }, strict: true });
    if (!values.patient || !values['record-id'] || !values.version) throw new UsageError('usage: medrollup claim --patient <account> --record-id ID --version V');
    await withParty(config, values, progress, async (p) => {
      const session = new InstitutionSession({ keys: p.keys, account: p.account, storage: p.storage, rollup: p.rollup });
      const r = await session.claim(Number(values.patient), values['record-id']!, Number(values.version));
      out(`claim filed: reference ${r.reference} (L2 batch ${r.tx.batch}, tx ${r.tx.txHash})`);
    });
  },
};

COMMANDS.history = {
  summary: "list every version of the patient's index: records, versions, CIDs, grantees",
  async run(args, { config, out, progress }) {
    const { values } = parseArgs({ args, options: RECORD_OPTIONS, strict: true });
    await withParty(config, values, progress, async (p) => {
      const versions = await (await patientSession(p)).history();
      if (versions.length === 0) out('no index yet (upload a record first)');
      for (const v of versions) {
        out(`index #${v.index.seq} ${v.cid} (${v.index.updatedAt})`);
        for (const r of v.index.records) out(`  ${r.recordId} v${r.version} ${r.resourceType} ${r.cid}`);
        for (const g of v.index.grantees) out(`  grantee ${g.account} slot ${g.slot}${g.revokedAt ? ` revoked ${g.revokedAt}` : ''}`);
      }
    });
  },
};

COMMANDS.verify = {
  summary: "check that an index CID is the one the rollup holds for a patient (its hash in the L2 state)",
  async run(args, { config, out }) {
    const { values } = parseArgs({ args, options: { sequencer: { type: 'string' }, patient: { type: 'string' }, index: { type: 'string' } }, strict: true });
    if (!values.patient || !values.index) throw new UsageError('usage: medrollup verify --patient <account> --index <index CID>');
    await verifyIndexCid(new RollupClient(sequencerUrl(config, values.sequencer)), Number(values.patient), values.index);
    out(`index ${values.index} is patient ${values.patient}'s current index on the rollup`);
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
