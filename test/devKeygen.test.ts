/**
 * circuits/setup/devKeygen.ts, the INSECURE dev-only Groth16 key generation, against snarkjs itself:
 * real circom circuits compiled here with circom2, proofs from snarkjs's prover with our zkey,
 * snarkjs's verifier and its generated Solidity verifier on anvil, and the coefficient section
 * compared byte for byte with snarkjs's own `powersoftau` + `zkey new` route.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ContractFactory, HDNodeWallet, JsonRpcProvider, Mnemonic, type BaseContract } from 'ethers';
import * as snarkjs from 'snarkjs';
import { devKeygen, INSECURE_WARNING, type DevKeygenResult } from '../circuits/setup/devKeygen.js';
import { freePort, startAnvil, type AnvilChain } from '../scripts/devnet/anvil.js';
import { ANVIL_MNEMONIC } from '../sdk/config.js';

const require = createRequire(import.meta.url);

/** Three public signals (out, a, b); a chain of Poseidon(2): 4,136 constraints with circom2's default -O1. */
const CHAIN_CIRCOM = `pragma circom 2.0.0;
include "circomlib/poseidon.circom";
template Chain(N) {
  signal input a;
  signal input b;
  signal input secret;
  signal output out;
  component h[N];
  for (var i = 0; i < N; i++) {
    h[i] = Poseidon(2);
    h[i].inputs[0] <== i == 0 ? secret : h[i - 1].out;
    h[i].inputs[1] <== i == 0 ? a : b;
  }
  out <== h[N - 1].out;
}
component main {public [a, b]} = Chain(8);
`;

/** One public signal (the output, no public inputs); small enough for snarkjs's ptau route. */
const ONE_CIRCOM = `pragma circom 2.0.0;
include "circomlib/bitify.circom";
template One() {
  signal input x;
  signal input y;
  signal output out;
  component bits = Num2Bits(64);
  bits.in <== x;
  signal p[8];
  p[0] <== x * y;
  for (var i = 1; i < 8; i++) p[i] <== p[i - 1] * (y + bits.out[i]);
  out <== p[7] + 3 * bits.out[0];
}
component main = One();
`;

/** Three public signals, a dozen constraints, linear ones included. */
const SMALL_CIRCOM = `pragma circom 2.0.0;
include "circomlib/bitify.circom";
template Small() {
  signal input a;
  signal input b;
  signal input c;
  signal output out;
  component bits = Num2Bits(8);
  bits.in <== c;
  signal t <== a * b;
  signal u <== t * (c + 3 * a - 2);
  out <== u + 5 * bits.out[3] + a;
}
component main {public [a, b]} = Small();
`;

const INPUTS = {
  chain: { a: '3', b: '5', secret: '123456789' },
  one: { x: '1234567', y: '89' },
  small: { a: '3', b: '5', c: '200' },
} as const;
type CircuitName = keyof typeof INPUTS;

interface Built {
  r1cs: string;
  wasm: string;
  zkey: string;
  result: DevKeygenResult;
  logs: string[];
}

/** snarkjs keeps a bn128 curve with worker threads in this global; stopping it lets jest exit. */
async function terminateSnarkjsCurve(): Promise<void> {
  const g = globalThis as { curve_bn128?: { terminate?: () => Promise<void> } | null };
  await g.curve_bn128?.terminate?.();
}

/** Splits a zkey or r1cs file into its sections (id -> view into buf), as @iden3/binfileutils reads them. */
function binSections(buf: Buffer, magic: 'zkey' | 'r1cs'): Map<number, Buffer> {
  expect(buf.subarray(0, 4).toString('latin1')).toBe(magic);
  const n = buf.readUInt32LE(8);
  const sections = new Map<number, Buffer>();
  let pos = 12;
  for (let i = 0; i < n; i++) {
    const id = buf.readUInt32LE(pos);
    const size = Number(buf.readBigUInt64LE(pos + 4));
    sections.set(id, buf.subarray(pos + 12, pos + 12 + size));
    pos += 12 + size;
  }
  expect(pos).toBe(buf.length);
  return sections;
}

const zkeySections = (file: string) => binSections(readFileSync(file), 'zkey');

/** nVars, nPublic, domainSize from section 2 (after n8q, q, n8r, r). */
function headerNumbers(section2: Buffer): [number, number, number] {
  return [section2.readUInt32LE(72), section2.readUInt32LE(76), section2.readUInt32LE(80)];
}

function tamper(signals: string[]): string[] {
  const out = [...signals];
  out[0] = (BigInt(out[0] ?? '0') + 1n).toString();
  return out;
}

describe('devKeygen: INSECURE dev-only Groth16 keys, snarkjs-compatible', () => {
  let dir: string;
  const built = {} as Record<CircuitName, Built>;

  function compile(name: CircuitName, source: string): void {
    writeFileSync(join(dir, `${name}.circom`), source);
    // circom2 runs under WASI and can only open paths relative to its working directory.
    const res = spawnSync(process.execPath, [require.resolve('circom2/cli.js'), `${name}.circom`, '--r1cs', '--wasm', '-o', '.'], {
      cwd: dir,
      encoding: 'utf8',
    });
    if (res.status !== 0) throw new Error(`circom2 ${name}: ${res.stderr}${res.stdout}`);
  }

  async function keygen(name: CircuitName): Promise<Built> {
    const logs: string[] = [];
    const r1cs = join(dir, `${name}.r1cs`);
    const zkey = join(dir, `${name}_dev.zkey`);
    const result = await devKeygen({ r1csPath: r1cs, zkeyPath: zkey, log: (m) => logs.push(m) });
    return { r1cs, wasm: join(dir, `${name}_js`, `${name}.wasm`), zkey, result, logs };
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'devkeygen-'));
    cpSync(join(dirname(require.resolve('circomlib/package.json')), 'circuits'), join(dir, 'circomlib'), { recursive: true });
    compile('chain', CHAIN_CIRCOM);
    compile('one', ONE_CIRCOM);
    compile('small', SMALL_CIRCOM);
    for (const name of ['chain', 'one', 'small'] as const) built[name] = await keygen(name);
  });

  afterAll(async () => {
    await terminateSnarkjsCurve();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('reports the circuit sizes and shouts that the key is insecure', () => {
    expect(built.chain.result).toMatchObject({ nConstraints: 4136, nVars: 4140, nPublic: 3, domainSize: 8192 });
    expect(built.one.result.nPublic).toBe(1);
    expect(built.chain.result.seconds).toBeGreaterThan(0);
    expect(built.chain.logs[0]).toContain(INSECURE_WARNING);
    expect(built.chain.logs.join('\n')).toMatch(/H \(G1\): done/);
    const [nVars, nPublic, domainSize] = headerNumbers(zkeySections(built.chain.zkey).get(2)!);
    expect({ nVars, nPublic, domainSize }).toEqual({ nVars: 4140, nPublic: 3, domainSize: 8192 });
  });

  it.each(['chain', 'one', 'small'] as const)('%s: snarkjs proves with the dev key, verifies, and rejects a tampered signal', async (name) => {
    const b = built[name];
    const { proof, publicSignals } = await snarkjs.groth16.fullProve(INPUTS[name], b.wasm, b.zkey);
    expect(publicSignals).toHaveLength(b.result.nPublic);
    const vk = await snarkjs.zKey.exportVerificationKey(b.zkey);
    expect(vk.nPublic).toBe(b.result.nPublic);
    expect(await snarkjs.groth16.verify(vk, publicSignals, proof)).toBe(true);
    expect(await snarkjs.groth16.verify(vk, tamper(publicSignals), proof)).toBe(false);
  });

  it.each(['one', 'small'] as const)(
    "%s: same coefficients and sizes as snarkjs's own powersoftau + zkey new route",
    async (name) => {
      const b = built[name];
      const power = Math.log2(b.result.domainSize); // the smallest ceremony zkey new accepts
      const curve = await snarkjs.curves.getCurveFromName('bn128');
      const ptau = (k: string) => join(dir, `${name}_${k}.ptau`);
      await snarkjs.powersOfTau.newAccumulator(curve, power, ptau('0'));
      await snarkjs.powersOfTau.contribute(ptau('0'), ptau('1'), 'test', 'test entropy');
      await snarkjs.powersOfTau.preparePhase2(ptau('1'), ptau('final'));
      const theirs = join(dir, `${name}_snarkjs.zkey`);
      await snarkjs.zKey.newZKey(b.r1cs, ptau('final'), theirs);

      const ours = zkeySections(b.zkey);
      const ref = zkeySections(theirs);
      expect([...ours.keys()]).toEqual([...ref.keys()]); // same sections in the same file order
      expect(ours.get(4)!.equals(ref.get(4)!)).toBe(true);
      expect(ours.get(1)!.equals(ref.get(1)!)).toBe(true);
      expect(headerNumbers(ours.get(2)!)).toEqual(headerNumbers(ref.get(2)!));
      // q and r with their sizes are identical too; the points differ (other tau), their sizes not.
      expect(ours.get(2)!.subarray(0, 72).equals(ref.get(2)!.subarray(0, 72))).toBe(true);
      for (const id of [2, 3, 5, 6, 7, 8, 9, 10]) expect(ours.get(id)!.length).toBe(ref.get(id)!.length);
    },
  );

  it('is deterministic with test entropy and random without it', async () => {
    const r1cs = built.small.r1cs;
    const file = (k: string) => join(dir, `small_${k}.zkey`);
    const quiet = () => undefined;
    const entropy = new TextEncoder().encode('devKeygen test entropy');
    await devKeygen({ r1csPath: r1cs, zkeyPath: file('e1'), entropy, log: quiet, workers: 1 });
    await devKeygen({ r1csPath: r1cs, zkeyPath: file('e2'), entropy, log: quiet, workers: 2 });
    await devKeygen({ r1csPath: r1cs, zkeyPath: file('e3'), entropy: new TextEncoder().encode('other'), log: quiet });
    expect(readFileSync(file('e1')).equals(readFileSync(file('e2')))).toBe(true);
    expect(zkeySections(file('e1')).get(2)!.equals(zkeySections(file('e3')).get(2)!)).toBe(false);
    expect(zkeySections(built.small.zkey).get(2)!.equals(zkeySections(file('e1')).get(2)!)).toBe(false);
  });

  it('accepts a snarkjs phase-2 contribution on top of a dev key', async () => {
    const b = built.small;
    const next = join(dir, 'small_contributed.zkey');
    await snarkjs.zKey.contribute(b.zkey, next, 'on top of the dev key', 'more entropy');
    const { proof, publicSignals } = await snarkjs.groth16.fullProve(INPUTS.small, b.wasm, next);
    const vk = await snarkjs.zKey.exportVerificationKey(next);
    expect(await snarkjs.groth16.verify(vk, publicSignals, proof)).toBe(true);
    const oldVk = await snarkjs.zKey.exportVerificationKey(b.zkey);
    expect(await snarkjs.groth16.verify(oldVk, publicSignals, proof)).toBe(false); // delta moved
  });

  it('fails cleanly on a file that is not an R1CS and leaves no output behind', async () => {
    const bogus = join(dir, 'bogus.r1cs');
    writeFileSync(bogus, 'not an r1cs file at all');
    const zkey = join(dir, 'bogus.zkey');
    await expect(devKeygen({ r1csPath: bogus, zkeyPath: zkey, log: () => undefined })).rejects.toThrow(/not an R1CS file/);
    expect(() => readFileSync(zkey)).toThrow();
  });

  it('rejects an R1CS that refers to an unknown signal, without leaving a partial zkey', async () => {
    const bytes = readFileSync(built.small.r1cs);
    // The first term of the first constraint's A: section 2 starts with nA (u32), then the signal (u32).
    binSections(bytes, 'r1cs').get(2)!.writeUInt32LE(0xfffffff0, 4);
    const bad = join(dir, 'bad.r1cs');
    writeFileSync(bad, bytes);
    const zkey = join(dir, 'bad.zkey');
    await expect(devKeygen({ r1csPath: bad, zkeyPath: zkey, log: () => undefined })).rejects.toThrow(/refers to signal/);
    expect(readdirSync(dir).filter((f) => f.startsWith('bad.zkey'))).toEqual([]);
  });

  describe('Solidity verifier exported from a dev key, on anvil', () => {
    let anvil: AnvilChain;
    let provider: JsonRpcProvider;
    let verifier: BaseContract & { verifyProof(...args: unknown[]): Promise<boolean> };

    beforeAll(async () => {
      anvil = await startAnvil({ chainId: 31337, port: await freePort(), name: 'devkeygen-test' });
      provider = new JsonRpcProvider(anvil.url, undefined, { staticNetwork: true, pollingInterval: 50 });
      const wallet = HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(ANVIL_MNEMONIC), "m/44'/60'/0'/0/0").connect(provider);

      const template = readFileSync(join(dirname(require.resolve('snarkjs')), '..', 'templates', 'verifier_groth16.sol.ejs'), 'utf8');
      const source = await snarkjs.zKey.exportSolidityVerifier(built.chain.zkey, { groth16: template });
      const solc = require('solc') as { compile(input: string): string };
      const output = JSON.parse(
        solc.compile(
          JSON.stringify({
            language: 'Solidity',
            sources: { 'Verifier.sol': { content: source } },
            settings: { optimizer: { enabled: true, runs: 200 }, outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } } },
          }),
        ),
      ) as {
        errors?: { severity: string; formattedMessage: string }[];
        contracts: Record<string, Record<string, { abi: unknown[]; evm: { bytecode: { object: string } } }>>;
      };
      const errors = (output.errors ?? []).filter((e) => e.severity === 'error');
      if (errors.length > 0) throw new Error(errors.map((e) => e.formattedMessage).join('\n'));
      const artifact = output.contracts['Verifier.sol']?.['Groth16Verifier'];
      if (!artifact) throw new Error('solc produced no Groth16Verifier');
      const contract = await new ContractFactory(artifact.abi as never, artifact.evm.bytecode.object, wallet).deploy();
      await contract.waitForDeployment();
      verifier = contract as typeof verifier;
    });

    afterAll(async () => {
      provider?.destroy();
      await anvil?.stop();
    });

    it('verifyProof is true for a proof with the dev key and false for a tampered public signal', async () => {
      const b = built.chain;
      const { proof, publicSignals } = await snarkjs.groth16.fullProve(INPUTS.chain, b.wasm, b.zkey);
      const args = (signals: string[]) => snarkjs.groth16.exportSolidityCallData(proof, signals).then((s) => JSON.parse(`[${s}]`) as unknown[]);
      expect(await verifier.verifyProof(...(await args(publicSignals)))).toBe(true);
      expect(await verifier.verifyProof(...(await args(tamper(publicSignals))))).toBe(false);
    });
  });
});
