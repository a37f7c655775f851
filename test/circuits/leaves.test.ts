/**
 * circuits/src/leaves.circom: AccountLeaf and ConsentLeaf against poseidon-lite, and the empty
 * rules (account: pubX == 0 and pubY == 0; consent: scope == 0).
 */
import { randomBytes } from 'node:crypto';
import { poseidon2, poseidon3, poseidon5 } from 'poseidon-lite';
import { compileCircuit, type CompiledCircuit } from '../../circuits/compile.js';
import { releaseCircuitResources, signal, witness } from '../helpers/circuit.js';

const R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;
const SOURCE = 'circuits/src/leaves.circom';
/** Consent tree depth of the test profile (SPEC: S = 2). */
const S = 2;

function randomField(): bigint {
  return BigInt(`0x${randomBytes(32).toString('hex')}`) % R;
}

function emptyConsentRoot(depth: number): bigint {
  let z = 0n;
  for (let i = 0; i < depth; i++) z = poseidon2([z, z]);
  return z;
}

let account: CompiledCircuit;
let consent: CompiledCircuit;

beforeAll(async () => {
  account = await compileCircuit({ source: SOURCE, name: 'test_account_leaf', main: 'component main = AccountLeaf();' });
  consent = await compileCircuit({ source: SOURCE, name: 'test_consent_leaf', main: 'component main = ConsentLeaf();' });
}, 600_000);

afterAll(async () => {
  await releaseCircuitResources();
});

async function accountLeaf(pubX: bigint, pubY: bigint, nonce: bigint, indexHash: bigint, consentRoot: bigint): Promise<[bigint, bigint]> {
  const w = await witness(account, { pubX, pubY, nonce, indexHash, consentRoot });
  return [signal(w, 'main.value'), signal(w, 'main.empty')];
}

async function consentLeaf(grantee: bigint, scope: bigint, expiry: bigint): Promise<[bigint, bigint]> {
  const w = await witness(consent, { grantee, scope, expiry });
  return [signal(w, 'main.value'), signal(w, 'main.empty')];
}

describe('AccountLeaf', () => {
  it('is Poseidon5(pubX, pubY, nonce, indexHash, consentRoot) for a registered key', async () => {
    for (let i = 0; i < 3; i++) {
      const f = [randomField(), randomField(), BigInt(i * 7), randomField() >> 8n, randomField()] as const;
      expect(await accountLeaf(...f)).toEqual([poseidon5([...f]), 0n]);
    }
  });

  it('a freshly registered account: Poseidon5(a, b, 0, 0, EMPTY_CONSENT_ROOT)', async () => {
    const [a, b] = [randomField(), randomField()];
    const root = emptyConsentRoot(S);
    expect(await accountLeaf(a, b, 0n, 0n, root)).toEqual([poseidon5([a, b, 0n, 0n, root]), 0n]);
  });

  it('is 0 (empty) exactly when pubX == 0 and pubY == 0, whatever the other fields', async () => {
    expect(await accountLeaf(0n, 0n, 0n, 0n, 0n)).toEqual([0n, 1n]);
    expect(await accountLeaf(0n, 0n, 5n, randomField(), randomField())).toEqual([0n, 1n]);
  });

  it('is not empty when only one coordinate is zero', async () => {
    const y = randomField();
    expect(await accountLeaf(0n, y, 0n, 0n, 0n)).toEqual([poseidon5([0n, y, 0n, 0n, 0n]), 0n]);
    const x = randomField();
    expect(await accountLeaf(x, 0n, 1n, 2n, 3n)).toEqual([poseidon5([x, 0n, 1n, 2n, 3n]), 0n]);
  });
});

describe('ConsentLeaf', () => {
  it('is Poseidon3(grantee, scope, expiry) for scope READ, CLAIM, READ|CLAIM', async () => {
    for (const scope of [1n, 2n, 3n]) {
      const grantee = BigInt(1 + Number(scope) * 11);
      const expiry = 1_900_000_000n + scope;
      expect(await consentLeaf(grantee, scope, expiry)).toEqual([poseidon3([grantee, scope, expiry]), 0n]);
    }
    // The largest 40-bit expiry.
    expect(await consentLeaf(4_294_967_295n, 3n, (1n << 40n) - 1n)).toEqual([poseidon3([4_294_967_295n, 3n, (1n << 40n) - 1n]), 0n]);
  });

  it('is 0 (empty) exactly when scope == 0, whatever grantee and expiry', async () => {
    expect(await consentLeaf(0n, 0n, 0n)).toEqual([0n, 1n]);
    expect(await consentLeaf(7n, 0n, 1_900_000_000n)).toEqual([0n, 1n]);
    // grantee 0 with a scope is not empty (the transaction rules, not the leaf, reject it).
    expect(await consentLeaf(0n, 1n, 0n)).toEqual([poseidon3([0n, 1n, 0n]), 0n]);
  });
});
