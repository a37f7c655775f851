/**
 * circuits/src/permission.circom: OpFlags (one-hot op, 0..6 only) and TxPermission, the pure rules
 * of the L2 transaction table of circuits/SPEC.md: one accepted case per op and the refusal of
 * every rule it states. The leaves TxPermission reads (actor's indexHash, target existence, the
 * consent slot) are inputs here; ProcessTx proves them (test/circuits/transaction.test.ts).
 */
import { compileCircuit, type CompiledCircuit } from '../../circuits/compile.js';
import { Scope, TxOp } from '../../prover/codec.js';
import { expectWitnessFailure, releaseCircuitResources, signal, witness, type CircuitInput } from '../helpers/circuit.js';

const R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;
const SOURCE = 'circuits/src/permission.circom';
const FLAGS = ['pad', 'upload', 'update', 'grant', 'revoke', 'access', 'claim'] as const;

const T = 1_700_000_000n;
const PATIENT = 1n;
const HOSPITAL = 2n;
const INSURER = 3n;
const LAB = 4n;
const INDEX = 0xabcdefn;

let flags: CompiledCircuit;
let permission: CompiledCircuit;

beforeAll(async () => {
  flags = await compileCircuit({ source: SOURCE, name: 'test_op_flags', main: 'component main = OpFlags();', log: () => {} });
  permission = await compileCircuit({ source: SOURCE, name: 'test_tx_permission', main: 'component main = TxPermission();', log: () => {} });
}, 600_000);

afterAll(async () => {
  await releaseCircuitResources();
});

interface Fields {
  actor: bigint;
  target: bigint;
  slot: bigint;
  scope: bigint;
  expiry: bigint;
  payload: bigint;
  timestamp: bigint;
  actorIndexHash: bigint;
  targetExists: bigint;
  consentGrantee: bigint;
  consentScope: bigint;
  consentExpiry: bigint;
}

const ZERO: Fields = {
  actor: 0n,
  target: 0n,
  slot: 0n,
  scope: 0n,
  expiry: 0n,
  payload: 0n,
  timestamp: T,
  actorIndexHash: 0n,
  targetExists: 0n,
  consentGrantee: 0n,
  consentScope: 0n,
  consentExpiry: 0n,
};

/** TxPermission input for `op` (one-hot flags as OpFlags gives them). */
function permInput(op: TxOp, fields: Partial<Fields>): CircuitInput {
  const input: CircuitInput = { ...ZERO, ...fields };
  FLAGS.forEach((name, i) => {
    input[name] = i === op ? 1 : 0;
  });
  return input;
}

async function accepts(op: TxOp, fields: Partial<Fields>): Promise<void> {
  await witness(permission, permInput(op, fields), { check: false });
}

async function refuses(op: TxOp, fields: Partial<Fields>): Promise<void> {
  await expectWitnessFailure(permission, permInput(op, fields));
}

/** Accepted base case of each op (SPEC table), from which each refusal changes one thing. */
const UPLOAD: Partial<Fields> = { actor: PATIENT, target: PATIENT, payload: INDEX, actorIndexHash: 0n };
const UPDATE: Partial<Fields> = { ...UPLOAD, actorIndexHash: 0x1234n };
const GRANT: Partial<Fields> = { actor: PATIENT, target: HOSPITAL, slot: 1n, scope: BigInt(Scope.Read), expiry: T + 1n, targetExists: 1n };
const REVOKE: Partial<Fields> = {
  actor: PATIENT,
  target: HOSPITAL,
  slot: 1n,
  consentGrantee: HOSPITAL,
  consentScope: BigInt(Scope.Read),
  consentExpiry: T + 100n,
};
const ACCESS: Partial<Fields> = {
  actor: HOSPITAL,
  target: PATIENT,
  slot: 2n,
  payload: INDEX,
  targetExists: 1n,
  consentGrantee: HOSPITAL,
  consentScope: BigInt(Scope.Read),
  consentExpiry: T + 100n,
};
const CLAIM: Partial<Fields> = {
  actor: INSURER,
  target: PATIENT,
  slot: 3n,
  payload: 0x77n,
  targetExists: 1n,
  consentGrantee: INSURER,
  consentScope: BigInt(Scope.Claim),
  consentExpiry: T + 100n,
};

describe('OpFlags', () => {
  it('is one-hot for op 0..6, in table order', async () => {
    for (let op = 0; op <= 6; op++) {
      // The R1CS check once per file.
      const w = await witness(flags, { op }, { check: op === 0 });
      FLAGS.forEach((name, i) => expect([name, signal(w, `main.${name}`)]).toEqual([name, i === op ? 1n : 0n]));
    }
  });

  it('refuses op 7 and any other value', async () => {
    for (const op of [7n, 8n, 255n, R - 1n]) await expectWitnessFailure(flags, { op });
  });
});

describe('TxPermission: padding (op 0)', () => {
  it('accepts the all-zero record', async () => {
    await accepts(TxOp.Padding, {});
  });

  it('refuses a padding slot with any non-zero record field', async () => {
    for (const field of ['actor', 'target', 'slot', 'scope', 'expiry', 'payload'] as const) {
      await refuses(TxOp.Padding, { [field]: 1n });
    }
    await refuses(TxOp.Padding, { payload: (1n << 248n) - 1n });
    await refuses(TxOp.Padding, { actor: PATIENT, target: PATIENT, payload: INDEX }); // an upload marked as padding
  });
});

describe('TxPermission: upload (op 1) and update (op 2)', () => {
  it('accepts an upload without an index and an update over one', async () => {
    await accepts(TxOp.Upload, UPLOAD);
    await accepts(TxOp.Update, UPDATE);
    await accepts(TxOp.Upload, { ...UPLOAD, payload: (1n << 248n) - 1n });
  });

  it('refuses an upload over an existing index and an update without one', async () => {
    await refuses(TxOp.Upload, { ...UPLOAD, actorIndexHash: 0x1234n });
    await refuses(TxOp.Update, { ...UPDATE, actorIndexHash: 0n });
  });

  it('refuses target != actor, a non-zero slot / scope / expiry and payload 0', async () => {
    for (const [op, base] of [
      [TxOp.Upload, UPLOAD],
      [TxOp.Update, UPDATE],
    ] as const) {
      await refuses(op, { ...base, target: HOSPITAL });
      await refuses(op, { ...base, target: 0n });
      await refuses(op, { ...base, slot: 1n });
      await refuses(op, { ...base, scope: 1n });
      await refuses(op, { ...base, expiry: T + 100n });
      await refuses(op, { ...base, payload: 0n });
    }
  });
});

describe('TxPermission: grant (op 3)', () => {
  it('accepts scope READ, CLAIM and both, expiry after the batch time, whatever the slot held', async () => {
    for (const scope of [1n, 2n, 3n]) await accepts(TxOp.Grant, { ...GRANT, scope });
    await accepts(TxOp.Grant, { ...GRANT, expiry: (1n << 40n) - 1n });
    // Overwriting an occupied slot is allowed (slot := (target, scope, expiry)).
    await accepts(TxOp.Grant, { ...GRANT, consentGrantee: LAB, consentScope: 3n, consentExpiry: T + 5n });
  });

  it('refuses a grant to self and to a non-existent target', async () => {
    await refuses(TxOp.Grant, { ...GRANT, target: PATIENT });
    await refuses(TxOp.Grant, { ...GRANT, targetExists: 0n });
  });

  it('refuses scope 0, scope 4 and any scope with bits beyond READ | CLAIM', async () => {
    for (const scope of [0n, 4n, 5n, 7n, 8n, 128n, 255n]) await refuses(TxOp.Grant, { ...GRANT, scope });
  });

  it('refuses expiry == timestamp and an expiry in the past', async () => {
    await refuses(TxOp.Grant, { ...GRANT, expiry: T });
    await refuses(TxOp.Grant, { ...GRANT, expiry: T - 1n });
    await refuses(TxOp.Grant, { ...GRANT, expiry: 0n });
  });

  it('refuses a non-zero payload', async () => {
    await refuses(TxOp.Grant, { ...GRANT, payload: 1n });
  });
});

describe('TxPermission: revoke (op 4)', () => {
  it("accepts a revoke of the target's consent (any scope, also an expired one)", async () => {
    await accepts(TxOp.Revoke, REVOKE);
    await accepts(TxOp.Revoke, { ...REVOKE, consentScope: 3n });
    await accepts(TxOp.Revoke, { ...REVOKE, consentScope: 2n, consentExpiry: T - 1n });
  });

  it("refuses a revoke of an empty slot and of another grantee's slot", async () => {
    await refuses(TxOp.Revoke, { ...REVOKE, consentGrantee: 0n, consentScope: 0n, consentExpiry: 0n });
    // An empty slot whose (unconstrained) grantee field names the target is still empty.
    await refuses(TxOp.Revoke, { ...REVOKE, consentScope: 0n });
    await refuses(TxOp.Revoke, { ...REVOKE, consentGrantee: LAB });
    await refuses(TxOp.Revoke, { ...REVOKE, target: LAB });
  });

  it('refuses a non-zero scope, expiry or payload', async () => {
    await refuses(TxOp.Revoke, { ...REVOKE, scope: 1n });
    await refuses(TxOp.Revoke, { ...REVOKE, expiry: T + 100n });
    await refuses(TxOp.Revoke, { ...REVOKE, payload: 1n });
  });
});

describe('TxPermission: access (op 5) and claim (op 6)', () => {
  it('accepts access with READ and claim with CLAIM (alone or both), any payload', async () => {
    await accepts(TxOp.Access, ACCESS);
    await accepts(TxOp.Access, { ...ACCESS, consentScope: 3n, payload: 0n });
    await accepts(TxOp.Claim, CLAIM);
    await accepts(TxOp.Claim, { ...CLAIM, consentScope: 3n, payload: (1n << 248n) - 1n });
  });

  it('refuses access without READ and claim without CLAIM', async () => {
    await refuses(TxOp.Access, { ...ACCESS, consentScope: BigInt(Scope.Claim) });
    await refuses(TxOp.Claim, { ...CLAIM, consentScope: BigInt(Scope.Read) });
  });

  it('refuses an expired consent (expiry < timestamp) and accepts one at expiry == timestamp', async () => {
    await refuses(TxOp.Access, { ...ACCESS, consentExpiry: T - 1n });
    await refuses(TxOp.Claim, { ...CLAIM, consentExpiry: T - 1n });
    await refuses(TxOp.Access, { ...ACCESS, consentExpiry: 0n });
    await accepts(TxOp.Access, { ...ACCESS, consentExpiry: T });
    await accepts(TxOp.Claim, { ...CLAIM, consentExpiry: T });
  });

  it('refuses an actor other than the grantee, an empty slot, a non-existent or self target', async () => {
    for (const [op, base] of [
      [TxOp.Access, ACCESS],
      [TxOp.Claim, CLAIM],
    ] as const) {
      await refuses(op, { ...base, actor: LAB });
      await refuses(op, { ...base, consentGrantee: LAB });
      await refuses(op, { ...base, consentScope: 0n });
      await refuses(op, { ...base, consentGrantee: 0n, consentScope: 0n, consentExpiry: 0n });
      await refuses(op, { ...base, targetExists: 0n });
      await refuses(op, { ...base, target: base.actor });
    }
  });

  it('refuses a non-zero scope or expiry in the record', async () => {
    for (const [op, base] of [
      [TxOp.Access, ACCESS],
      [TxOp.Claim, CLAIM],
    ] as const) {
      await refuses(op, { ...base, scope: 1n });
      await refuses(op, { ...base, expiry: T + 100n });
    }
  });
});
