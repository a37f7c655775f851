/**
 * Gateway: Governed (two-step governance), Registry (institutions, patients, forced revocations),
 * the wiring / operator setters and the parts of the ForcedQueue that need no batch (queueing,
 * the 73-byte wire format, access control of consumeForcedOps, the overdue flag). Consumption by
 * the Rollup is covered by the Rollup tests.
 */
import { ZeroAddress, ethers, type HDNodeWallet, type Log, type LogDescription, type TransactionReceipt } from 'ethers';
import { useSettlementChain, babyJubKey } from '../helpers/chain.js';
import { expectRevert } from '../helpers/revert.js';
import { GasTable } from '../helpers/gas.js';
import { Gateway__factory, type Gateway } from '../../contracts/types/index.js';

/** BN254 scalar field = BabyJubJub base field. */
const Q = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;
const DEADLINE = 20;

const Role = { None: 0, Hospital: 1, Laboratory: 2, Insurer: 3 } as const;
const AccountKind = { None: 0n, Patient: 1n, Institution: 2n } as const;
const OP_REGISTER_ACCOUNT = 1;
const OP_REVOKE_CONSENT = 2;

const gas = new GasTable('Gateway');
const { chain, c } = useSettlementChain({ gas, deploy: DEADLINE });

function acct(i: number): HDNodeWallet {
  const a = chain.accounts[i];
  if (!a) throw new Error(`no account ${i}`);
  return a;
}

function gw(i: number): Gateway {
  return c.gateway.connect(acct(i));
}

/** The forced-operation wire format, computed off chain (73 bytes, packed, big-endian). */
function wireOp(kind: number, account: bigint | number, counterpart: bigint | number, a: bigint, b: bigint): string {
  return ethers.solidityPacked(['uint8', 'uint32', 'uint32', 'uint256', 'uint256'], [kind, account, counterpart, a, b]);
}

function events(receipt: TransactionReceipt, name: string, gateway: Gateway = c.gateway): LogDescription[] {
  const address = receipt.to?.toLowerCase();
  return receipt.logs
    .filter((l: Log) => l.address.toLowerCase() === address)
    .map((l: Log) => gateway.interface.parseLog(l))
    .filter((d): d is LogDescription => d !== null && d.name === name);
}

function oneEvent(receipt: TransactionReceipt, name: string, gateway: Gateway = c.gateway): LogDescription {
  const found = events(receipt, name, gateway);
  expect(found).toHaveLength(1);
  return found[0] as LogDescription;
}

async function registerInstitution(
  accountIndex: number,
  role: number = Role.Hospital,
  key: [bigint, bigint] = babyJubKey(),
  did = `did:web:inst-${accountIndex}.example`,
): Promise<{ receipt: TransactionReceipt; key: [bigint, bigint]; index: bigint; address: string }> {
  const address = acct(accountIndex).address;
  const receipt = await gas.track('Gateway.registerInstitution', c.gateway.registerInstitution(address, role, key[0], key[1], did));
  const index = oneEvent(receipt, 'InstitutionRegistered').args.accountIndex as bigint;
  return { receipt, key, index, address };
}

async function registerPatient(
  controller: string = ZeroAddress,
  key: [bigint, bigint] = babyJubKey(),
  sender = 7,
): Promise<{ receipt: TransactionReceipt; key: [bigint, bigint]; index: bigint }> {
  const receipt = await gas.track('Gateway.registerPatient', gw(sender).registerPatient(key[0], key[1], controller));
  const index = oneEvent(receipt, 'PatientRegistered').args.accountIndex as bigint;
  return { receipt, key, index };
}

/** Checks the queue entry `i` against the off-chain wire encoding, and the event that queued it. */
async function expectQueued(
  receipt: TransactionReceipt,
  queueIndex: number,
  kind: number,
  account: bigint,
  counterpart: bigint,
  a: bigint,
  b: bigint,
): Promise<void> {
  const ev = oneEvent(receipt, 'ForcedOperationQueued');
  expect(ev.args.toArray()).toEqual([BigInt(queueIndex), BigInt(kind), account, counterpart, a, b]);
  const wire = wireOp(kind, account, counterpart, a, b);
  expect(ethers.dataLength(wire)).toBe(73);
  const [hash, queuedAtBlock] = await c.gateway.forcedOpAt(queueIndex);
  expect(hash).toBe(ethers.keccak256(wire));
  expect(queuedAtBlock).toBe(BigInt(receipt.blockNumber));
  expect(await c.gateway.encodeForcedOp(kind, account, counterpart, a, b)).toBe(wire);
}

describe('initial state', () => {
  it('is wired, governed by account 0, operated by account 1, with an empty queue', async () => {
    expect(await c.gateway.governance()).toBe(acct(0).address);
    expect(await c.gateway.pendingGovernance()).toBe(ZeroAddress);
    expect(await c.gateway.operator()).toBe(acct(1).address);
    expect(await c.gateway.rollup()).toBe(await c.rollup.getAddress());
    expect(await c.gateway.provenance()).toBe(await c.provenance.getAddress());
    expect(await c.gateway.forcedInclusionDeadline()).toBe(BigInt(DEADLINE));
    expect(await c.gateway.FORCED_OP_BYTES()).toBe(73n);
    expect(await c.gateway.OP_REGISTER_ACCOUNT()).toBe(BigInt(OP_REGISTER_ACCOUNT));
    expect(await c.gateway.OP_REVOKE_CONSENT()).toBe(BigInt(OP_REVOKE_CONSENT));
    expect(await c.gateway.nextAccountIndex()).toBe(1n);
    expect(await c.gateway.forcedQueueLength()).toBe(0n);
    expect(await c.gateway.forcedHead()).toBe(0n);
    expect(await c.gateway.institutionCount()).toBe(0n);
  });

  it('encodeForcedOp packs big-endian fields into 73 bytes, identical to solidityPacked', async () => {
    const cases: [number, bigint, bigint, bigint, bigint][] = [
      [1, 1n, 0n, 1n, 2n],
      [2, 0xfffffffen, 0x01020304n, Q - 1n, 0n],
      [255, 0xffffffffn, 0xffffffffn, ethers.MaxUint256, ethers.MaxUint256],
    ];
    for (const [kind, account, counterpart, a, b] of cases) {
      const onChain = await c.gateway.encodeForcedOp(kind, account, counterpart, a, b);
      expect(onChain).toBe(wireOp(kind, account, counterpart, a, b));
      expect(ethers.dataLength(onChain)).toBe(73);
    }
    // Field positions pinned byte by byte.
    const bytes = ethers.getBytes(await c.gateway.encodeForcedOp(2, 0x01020304, 0x0a0b0c0d, 5n, 6n));
    expect(bytes[0]).toBe(2);
    expect(Array.from(bytes.slice(1, 5))).toEqual([1, 2, 3, 4]);
    expect(Array.from(bytes.slice(5, 9))).toEqual([10, 11, 12, 13]);
    expect(ethers.toBigInt(bytes.slice(9, 41))).toBe(5n);
    expect(ethers.toBigInt(bytes.slice(41, 73))).toBe(6n);
  });
});

describe('registerInstitution', () => {
  it('registers one institution per role with consecutive account indexes, queues a RegisterAccount op each', async () => {
    const roles = [Role.Hospital, Role.Laboratory, Role.Insurer];
    for (const [i, role] of roles.entries()) {
      const accountIndex = BigInt(i + 1);
      const address = acct(i + 2).address;
      const [x, y] = babyJubKey();
      const did = `did:web:role-${role}.example`;
      expect(await c.gateway.registerInstitution.staticCall(address, role, x, y, did)).toBe(accountIndex);
      const receipt = await gas.track('Gateway.registerInstitution', c.gateway.registerInstitution(address, role, x, y, did));

      const reg = oneEvent(receipt, 'InstitutionRegistered');
      expect(reg.args.toArray()).toEqual([address, BigInt(role), accountIndex, x, y, did]);
      await expectQueued(receipt, i, OP_REGISTER_ACCOUNT, accountIndex, 0n, x, y);

      const inst = await c.gateway.institution(address);
      expect(inst.role).toBe(BigInt(role));
      expect(inst.active).toBe(true);
      expect(inst.accountIndex).toBe(accountIndex);
      expect(inst.pubKeyX).toBe(x);
      expect(inst.pubKeyY).toBe(y);
      expect(inst.did).toBe(did);
      expect(await c.gateway.isActiveInstitution(address)).toBe(true);

      const [kind, controller] = await c.gateway.accounts(accountIndex);
      expect(kind).toBe(AccountKind.Institution);
      expect(controller).toBe(address);
      expect(await c.gateway.accountOfKey(ethers.keccak256(ethers.AbiCoder.defaultAbiCoder().encode(['uint256', 'uint256'], [x, y])))).toBe(
        accountIndex,
      );
      expect(await c.gateway.institutionAt(i)).toBe(address);
    }
    expect(await c.gateway.institutionCount()).toBe(3n);
    expect(await c.gateway.nextAccountIndex()).toBe(4n);
    expect(await c.gateway.forcedQueueLength()).toBe(3n);
    expect(await c.gateway.forcedHead()).toBe(0n);
  });

  it('an unregistered address reads as an empty, inactive institution', async () => {
    const inst = await c.gateway.institution(acct(9).address);
    expect(inst.role).toBe(0n);
    expect(inst.active).toBe(false);
    expect(inst.accountIndex).toBe(0n);
    expect(inst.did).toBe('');
    expect(await c.gateway.isActiveInstitution(acct(9).address)).toBe(false);
  });

  it('reverts NotGovernance for any other sender (including the operator and the institution itself)', async () => {
    const [x, y] = babyJubKey();
    for (const i of [1, 2, 5]) {
      await expectRevert(gw(i).registerInstitution(acct(2).address, Role.Hospital, x, y, 'did:web:a'), c.gateway.interface, 'NotGovernance', [
        acct(i).address,
      ]);
    }
  });

  it('reverts ZeroAddress, InvalidRole (0) and EmptyDid', async () => {
    const [x, y] = babyJubKey();
    await expectRevert(c.gateway.registerInstitution(ZeroAddress, Role.Hospital, x, y, 'did:web:a'), c.gateway.interface, 'ZeroAddress', []);
    await expectRevert(c.gateway.registerInstitution(acct(2).address, Role.None, x, y, 'did:web:a'), c.gateway.interface, 'InvalidRole', []);
    await expectRevert(c.gateway.registerInstitution(acct(2).address, Role.Hospital, x, y, ''), c.gateway.interface, 'EmptyDid', []);
    expect(await c.gateway.nextAccountIndex()).toBe(1n);
    expect(await c.gateway.forcedQueueLength()).toBe(0n);
  });

  it('rejects a role outside the enum (ABI decoding fails, no custom error)', async () => {
    const [x, y] = babyJubKey();
    await expect(c.gateway.registerInstitution(acct(2).address, 4, x, y, 'did:web:a')).rejects.toThrow();
    expect(await c.gateway.institutionCount()).toBe(0n);
  });

  it('reverts InstitutionExists for an address registered before, even with a fresh key and another role', async () => {
    const first = await registerInstitution(2, Role.Hospital);
    const [x, y] = babyJubKey();
    await expectRevert(
      c.gateway.registerInstitution(first.address, Role.Insurer, x, y, 'did:web:again'),
      c.gateway.interface,
      'InstitutionExists',
      [first.address],
    );
    // Still true after deactivation: an address cannot be re-registered.
    await gas.track('Gateway.setInstitutionActive', c.gateway.setInstitutionActive(first.address, false));
    await expectRevert(
      c.gateway.registerInstitution(first.address, Role.Insurer, x, y, 'did:web:again'),
      c.gateway.interface,
      'InstitutionExists',
      [first.address],
    );
  });

  it('reverts InvalidPublicKey for an off-curve point, coordinates >= the field, and the identity (0, 1)', async () => {
    const [x, y] = babyJubKey();
    const bad: [bigint, bigint][] = [
      [x, (y + 1n) % Q], // off the curve
      [x + 1n, y], // off the curve
      [0n, 0n], // off the curve
      [Q, y], // x = q
      [x + Q, y], // x >= q but congruent to an on-curve x: non-canonical encodings are rejected
      [x, y + Q], // y >= q, same
      [ethers.MaxUint256, y],
      [0n, 1n], // the identity is on the curve but is not a key
    ];
    for (const [bx, by] of bad) {
      await expectRevert(c.gateway.registerInstitution(acct(2).address, Role.Hospital, bx, by, 'did:web:a'), c.gateway.interface, 'InvalidPublicKey', [
        bx,
        by,
      ]);
    }
    // The valid key itself is accepted.
    await registerInstitution(2, Role.Hospital, [x, y]);
  });

  it('reverts PublicKeyTaken for a key held by another institution or by a patient', async () => {
    const inst = await registerInstitution(2, Role.Hospital);
    await expectRevert(
      c.gateway.registerInstitution(acct(3).address, Role.Laboratory, inst.key[0], inst.key[1], 'did:web:b'),
      c.gateway.interface,
      'PublicKeyTaken',
      [inst.index],
    );
    const patient = await registerPatient();
    await expectRevert(
      c.gateway.registerInstitution(acct(3).address, Role.Laboratory, patient.key[0], patient.key[1], 'did:web:b'),
      c.gateway.interface,
      'PublicKeyTaken',
      [patient.index],
    );
  });

  it('checks in order: ZeroAddress, role, did, existing institution, key', async () => {
    const inst = await registerInstitution(2);
    // Existing institution wins over a bad key.
    await expectRevert(c.gateway.registerInstitution(inst.address, Role.Hospital, 0n, 1n, 'did:web:a'), c.gateway.interface, 'InstitutionExists');
    // EmptyDid wins over an existing institution.
    await expectRevert(c.gateway.registerInstitution(inst.address, Role.Hospital, 0n, 1n, ''), c.gateway.interface, 'EmptyDid');
    // InvalidRole wins over EmptyDid.
    await expectRevert(c.gateway.registerInstitution(inst.address, Role.None, 0n, 1n, ''), c.gateway.interface, 'InvalidRole');
    // ZeroAddress wins over everything.
    await expectRevert(c.gateway.registerInstitution(ZeroAddress, Role.None, 0n, 1n, ''), c.gateway.interface, 'ZeroAddress');
    // Governance is checked first of all.
    await expectRevert(gw(3).registerInstitution(ZeroAddress, Role.None, 0n, 1n, ''), c.gateway.interface, 'NotGovernance', [acct(3).address]);
  });
});

describe('setInstitutionActive', () => {
  it('toggles isActiveInstitution and emits InstitutionStatusChanged', async () => {
    const inst = await registerInstitution(2, Role.Laboratory);
    let receipt = await gas.track('Gateway.setInstitutionActive', c.gateway.setInstitutionActive(inst.address, false));
    expect(oneEvent(receipt, 'InstitutionStatusChanged').args.toArray()).toEqual([inst.address, false]);
    expect(await c.gateway.isActiveInstitution(inst.address)).toBe(false);
    const off = await c.gateway.institution(inst.address);
    expect(off.active).toBe(false);
    expect(off.role).toBe(BigInt(Role.Laboratory)); // the rest of the record is kept
    expect(off.accountIndex).toBe(inst.index);

    receipt = await gas.track('Gateway.setInstitutionActive', c.gateway.setInstitutionActive(inst.address, true));
    expect(oneEvent(receipt, 'InstitutionStatusChanged').args.toArray()).toEqual([inst.address, true]);
    expect(await c.gateway.isActiveInstitution(inst.address)).toBe(true);
    // No forced operation is queued by a status change.
    expect(await c.gateway.forcedQueueLength()).toBe(1n);
  });

  it('reverts UnknownInstitution for an unregistered address (also a patient controller)', async () => {
    await expectRevert(c.gateway.setInstitutionActive(acct(4).address, false), c.gateway.interface, 'UnknownInstitution', [acct(4).address]);
    await registerPatient(acct(5).address);
    await expectRevert(c.gateway.setInstitutionActive(acct(5).address, true), c.gateway.interface, 'UnknownInstitution', [acct(5).address]);
  });

  it('reverts NotGovernance for other senders, including the institution itself', async () => {
    const inst = await registerInstitution(2);
    await expectRevert(gw(2).setInstitutionActive(inst.address, false), c.gateway.interface, 'NotGovernance', [inst.address]);
    await expectRevert(gw(1).setInstitutionActive(inst.address, false), c.gateway.interface, 'NotGovernance', [acct(1).address]);
    expect(await c.gateway.isActiveInstitution(inst.address)).toBe(true);
  });
});

describe('registerPatient', () => {
  it('anyone can register; the index increments across patients and institutions; a RegisterAccount op is queued', async () => {
    const [x1, y1] = babyJubKey();
    const controller = acct(5).address;
    const r1 = await gas.track('Gateway.registerPatient', gw(8).registerPatient(x1, y1, controller));
    expect(oneEvent(r1, 'PatientRegistered').args.toArray()).toEqual([1n, x1, y1, controller]);
    await expectQueued(r1, 0, OP_REGISTER_ACCOUNT, 1n, 0n, x1, y1);
    const [kind, ctrl] = await c.gateway.accounts(1);
    expect(kind).toBe(AccountKind.Patient);
    expect(ctrl).toBe(controller);

    const inst = await registerInstitution(2);
    expect(inst.index).toBe(2n);

    // A patient without a controller, registered by governance this time.
    const [x3, y3] = babyJubKey();
    expect(await c.gateway.registerPatient.staticCall(x3, y3, ZeroAddress)).toBe(3n);
    const r3 = await gas.track('Gateway.registerPatient', c.gateway.registerPatient(x3, y3, ZeroAddress));
    expect(oneEvent(r3, 'PatientRegistered').args.toArray()).toEqual([3n, x3, y3, ZeroAddress]);
    await expectQueued(r3, 2, OP_REGISTER_ACCOUNT, 3n, 0n, x3, y3);
    const [kind3, ctrl3] = await c.gateway.accounts(3);
    expect(kind3).toBe(AccountKind.Patient);
    expect(ctrl3).toBe(ZeroAddress);

    // Patients are not institutions.
    expect(await c.gateway.isActiveInstitution(controller)).toBe(false);
    expect(await c.gateway.institutionCount()).toBe(1n);
    expect(await c.gateway.nextAccountIndex()).toBe(4n);
    expect(await c.gateway.forcedQueueLength()).toBe(3n);
    // Index 0 is never assigned.
    const [kind0] = await c.gateway.accounts(0);
    expect(kind0).toBe(AccountKind.None);
  });

  it('one controller may control several patient accounts', async () => {
    const a = await registerPatient(acct(5).address);
    const b = await registerPatient(acct(5).address);
    expect(b.index).toBe(a.index + 1n);
  });

  it('reverts PublicKeyTaken for a key already used by a patient or an institution', async () => {
    const p = await registerPatient();
    await expectRevert(gw(6).registerPatient(p.key[0], p.key[1], acct(6).address), c.gateway.interface, 'PublicKeyTaken', [p.index]);
    const inst = await registerInstitution(2);
    await expectRevert(gw(6).registerPatient(inst.key[0], inst.key[1], ZeroAddress), c.gateway.interface, 'PublicKeyTaken', [inst.index]);
    expect(await c.gateway.forcedQueueLength()).toBe(2n);
  });

  it('reverts InvalidPublicKey for bad points', async () => {
    const [x, y] = babyJubKey();
    for (const [bx, by] of [
      [x, (y + 2n) % Q],
      [x + Q, y],
      [0n, 1n],
    ] as [bigint, bigint][]) {
      await expectRevert(gw(6).registerPatient(bx, by, ZeroAddress), c.gateway.interface, 'InvalidPublicKey', [bx, by]);
    }
  });

  it('accepts (0, q-1), an on-curve point of order 2 (documented: the subgroup check is left to the circuit)', async () => {
    // Pins the documented behaviour of BabyJubJub.isOnCurve; see the report for why this matters.
    const p = await registerPatient(ZeroAddress, [0n, Q - 1n]);
    expect(p.index).toBe(1n);
  });
});

describe('forceRevokeConsent', () => {
  async function setup(): Promise<{ patient: bigint; grantee: bigint; controller: HDNodeWallet }> {
    const controller = acct(5);
    const p = await registerPatient(controller.address);
    const inst = await registerInstitution(2, Role.Insurer);
    return { patient: p.index, grantee: inst.index, controller };
  }

  it("the patient's controller queues a RevokeConsent op (a = scope, counterpart = grantee, b = slot)", async () => {
    const { patient, grantee } = await setup();
    const scope = 0b1011n;
    const receipt = await gas.track('Gateway.forceRevokeConsent', gw(5).forceRevokeConsent(patient, grantee, scope, 3));
    expect(oneEvent(receipt, 'ConsentRevocationForced').args.toArray()).toEqual([patient, grantee, scope, 3n]);
    await expectQueued(receipt, 2, OP_REVOKE_CONSENT, patient, grantee, scope, 3n);
    expect(await c.gateway.forcedQueueLength()).toBe(3n);
    // Queueing the same revocation again is allowed (the queue is a log, not a set).
    const again = await gas.track('Gateway.forceRevokeConsent', gw(5).forceRevokeConsent(patient, grantee, scope, 3));
    await expectQueued(again, 3, OP_REVOKE_CONSENT, patient, grantee, scope, 3n);
  });

  it('accepts the full 8-bit scope mask (255) and a patient as grantee; the event carries the uint8 scope', async () => {
    const { patient } = await setup();
    const other = await registerPatient();
    const receipt = await gas.track('Gateway.forceRevokeConsent', gw(5).forceRevokeConsent(patient, other.index, 255, 0));
    expect(oneEvent(receipt, 'ConsentRevocationForced').args.toArray()).toEqual([patient, other.index, 255n, 0n]);
    expect(c.gateway.interface.getEvent('ConsentRevocationForced')?.inputs.map((i) => i.type)).toEqual(['uint32', 'uint32', 'uint8', 'uint8']);
    await expectQueued(receipt, 3, OP_REVOKE_CONSENT, patient, other.index, 255n, 0n);
    expect(await c.gateway.forcedQueueLength()).toBe(4n);
  });

  it('takes the scope as a uint8: a wider mask (256, 2^256 - 1) cannot even be encoded', async () => {
    const { patient, grantee } = await setup();
    expect(c.gateway.interface.getFunction('forceRevokeConsent')?.inputs.map((i) => i.type)).toEqual(['uint32', 'uint32', 'uint8', 'uint8']);
    await expect(gw(5).forceRevokeConsent(patient, grantee, 256n, 0)).rejects.toThrow();
    await expect(gw(5).forceRevokeConsent(patient, grantee, ethers.MaxUint256, 0)).rejects.toThrow();
    expect(await c.gateway.forcedQueueLength()).toBe(2n);
  });

  it('also works while the grantee institution is deactivated', async () => {
    const { patient, grantee } = await setup();
    await gas.track('Gateway.setInstitutionActive', c.gateway.setInstitutionActive(acct(2).address, false));
    const receipt = await gas.track('Gateway.forceRevokeConsent', gw(5).forceRevokeConsent(patient, grantee, 1n, 0));
    await expectQueued(receipt, 2, OP_REVOKE_CONSENT, patient, grantee, 1n, 0n);
  });

  it('reverts NotPatientController for any other sender (governance, the grantee, a stranger)', async () => {
    const { patient, grantee } = await setup();
    for (const i of [0, 2, 6]) {
      await expectRevert(gw(i).forceRevokeConsent(patient, grantee, 1n, 0), c.gateway.interface, 'NotPatientController', [patient, acct(i).address]);
    }
  });

  it('reverts NotPatientController for a patient registered without a controller, whoever sends', async () => {
    const p = await registerPatient(ZeroAddress, babyJubKey(), 6);
    const inst = await registerInstitution(2);
    for (const i of [0, 6, 7]) {
      await expectRevert(gw(i).forceRevokeConsent(p.index, inst.index, 1n, 0), c.gateway.interface, 'NotPatientController', [p.index, acct(i).address]);
    }
  });

  it('reverts UnknownAccount when the patient index is an institution, unassigned, or 0', async () => {
    const { patient, grantee } = await setup();
    // The institution's own address is its controller, but it is not a patient.
    await expectRevert(gw(2).forceRevokeConsent(grantee, patient, 1n, 0), c.gateway.interface, 'UnknownAccount', [grantee]);
    await expectRevert(gw(5).forceRevokeConsent(999, grantee, 1n, 0), c.gateway.interface, 'UnknownAccount', [999n]);
    await expectRevert(gw(5).forceRevokeConsent(0, grantee, 1n, 0), c.gateway.interface, 'UnknownAccount', [0n]);
  });

  it('reverts UnknownAccount for an unknown grantee (unassigned index, index 0)', async () => {
    const { patient } = await setup();
    await expectRevert(gw(5).forceRevokeConsent(patient, 42, 1n, 0), c.gateway.interface, 'UnknownAccount', [42n]);
    await expectRevert(gw(5).forceRevokeConsent(patient, 0, 1n, 0), c.gateway.interface, 'UnknownAccount', [0n]);
    // The next index to be assigned is not known yet either.
    const next = await c.gateway.nextAccountIndex();
    await expectRevert(gw(5).forceRevokeConsent(patient, next, 1n, 0), c.gateway.interface, 'UnknownAccount', [next]);
  });

  it('reverts InvalidScope for scope 0', async () => {
    const { patient, grantee } = await setup();
    await expectRevert(gw(5).forceRevokeConsent(patient, grantee, 0n, 0), c.gateway.interface, 'InvalidScope', []);
    expect(await c.gateway.forcedQueueLength()).toBe(2n);
  });

  it('checks in order: patient, controller, grantee, scope', async () => {
    const { patient } = await setup();
    await expectRevert(gw(6).forceRevokeConsent(999, 999, 0n, 0), c.gateway.interface, 'UnknownAccount', [999n]);
    await expectRevert(gw(6).forceRevokeConsent(patient, 999, 0n, 0), c.gateway.interface, 'NotPatientController', [patient, acct(6).address]);
    await expectRevert(gw(5).forceRevokeConsent(patient, 999, 0n, 0), c.gateway.interface, 'UnknownAccount', [999n]);
  });
});

describe('governance', () => {
  it('transferGovernance + acceptGovernance hands power over in two steps', async () => {
    const oldGov = acct(0);
    const newGov = acct(3);
    let receipt = await gas.track('Gateway.transferGovernance', c.gateway.transferGovernance(newGov.address));
    expect(oneEvent(receipt, 'GovernanceTransferStarted').args.toArray()).toEqual([oldGov.address, newGov.address]);
    expect(await c.gateway.pendingGovernance()).toBe(newGov.address);
    expect(await c.gateway.governance()).toBe(oldGov.address);

    // Before acceptance the old governance still governs and the pending one does not.
    await expectRevert(gw(3).setOperator(acct(4).address), c.gateway.interface, 'NotGovernance', [newGov.address]);
    await gas.track('Gateway.setOperator', c.gateway.setOperator(acct(4).address));

    // Only the pending address may accept.
    await expectRevert(gw(4).acceptGovernance(), c.gateway.interface, 'NotPendingGovernance', [acct(4).address]);
    await expectRevert(gw(0).acceptGovernance(), c.gateway.interface, 'NotPendingGovernance', [oldGov.address]);

    receipt = await gas.track('Gateway.acceptGovernance', gw(3).acceptGovernance());
    expect(oneEvent(receipt, 'GovernanceTransferred').args.toArray()).toEqual([oldGov.address, newGov.address]);
    expect(await c.gateway.governance()).toBe(newGov.address);
    expect(await c.gateway.pendingGovernance()).toBe(ZeroAddress);

    // The old governance lost every power, the new one has them.
    const [x, y] = babyJubKey();
    await expectRevert(c.gateway.registerInstitution(acct(2).address, Role.Hospital, x, y, 'did:web:a'), c.gateway.interface, 'NotGovernance', [
      oldGov.address,
    ]);
    await expectRevert(c.gateway.setOperator(acct(5).address), c.gateway.interface, 'NotGovernance', [oldGov.address]);
    await expectRevert(c.gateway.transferGovernance(oldGov.address), c.gateway.interface, 'NotGovernance', [oldGov.address]);
    await gas.track('Gateway.registerInstitution', gw(3).registerInstitution(acct(2).address, Role.Hospital, x, y, 'did:web:a'));
    await gas.track('Gateway.setInstitutionActive', gw(3).setInstitutionActive(acct(2).address, false));
    // Provenance reads governance from the Gateway, so it follows too.
    await expectRevert(c.provenance.setRollup(acct(9).address), c.provenance.interface, 'NotGovernance', [oldGov.address]);
    await expectRevert(c.provenance.connect(newGov).setRollup(acct(9).address), c.provenance.interface, 'AlreadyWired', []);

    // The acceptance cannot be replayed.
    await expectRevert(gw(3).acceptGovernance(), c.gateway.interface, 'NotPendingGovernance', [newGov.address]);
  });

  it('a pending transfer can be redirected before acceptance; the first nominee then cannot accept', async () => {
    await gas.track('Gateway.transferGovernance', c.gateway.transferGovernance(acct(3).address));
    await gas.track('Gateway.transferGovernance', c.gateway.transferGovernance(acct(4).address));
    expect(await c.gateway.pendingGovernance()).toBe(acct(4).address);
    await expectRevert(gw(3).acceptGovernance(), c.gateway.interface, 'NotPendingGovernance', [acct(3).address]);
    await gas.track('Gateway.acceptGovernance', gw(4).acceptGovernance());
    expect(await c.gateway.governance()).toBe(acct(4).address);
  });

  it('acceptGovernance without a pending transfer reverts NotPendingGovernance, even for governance', async () => {
    await expectRevert(gw(0).acceptGovernance(), c.gateway.interface, 'NotPendingGovernance', [acct(0).address]);
    await expectRevert(gw(5).acceptGovernance(), c.gateway.interface, 'NotPendingGovernance', [acct(5).address]);
  });

  it('transferGovernance reverts ZeroAddress and NotGovernance', async () => {
    await expectRevert(c.gateway.transferGovernance(ZeroAddress), c.gateway.interface, 'ZeroAddress', []);
    await expectRevert(gw(2).transferGovernance(acct(2).address), c.gateway.interface, 'NotGovernance', [acct(2).address]);
    expect(await c.gateway.pendingGovernance()).toBe(ZeroAddress);
  });
});

describe('wire and setOperator', () => {
  it('wire reverts AlreadyWired for governance once deploySettlement wired it, NotGovernance for others', async () => {
    await expectRevert(c.gateway.wire(acct(8).address, acct(9).address), c.gateway.interface, 'AlreadyWired', []);
    // AlreadyWired is checked before the zero-address check.
    await expectRevert(c.gateway.wire(ZeroAddress, ZeroAddress), c.gateway.interface, 'AlreadyWired', []);
    await expectRevert(gw(1).wire(acct(8).address, acct(9).address), c.gateway.interface, 'NotGovernance', [acct(1).address]);
    expect(await c.gateway.rollup()).toBe(await c.rollup.getAddress());
  });

  it('a fresh Gateway: constructor checks, wire ZeroAddress, wire success once, consumeForcedOps unwired', async () => {
    const factory = new Gateway__factory(acct(0));
    await expectRevert(factory.deploy(ZeroAddress, acct(1).address, DEADLINE, 1024, 8), c.gateway.interface, 'ZeroAddress', []);
    await expectRevert(factory.deploy(acct(0).address, ZeroAddress, DEADLINE, 1024, 8), c.gateway.interface, 'ZeroAddress', []);
    await expectRevert(factory.deploy(acct(0).address, acct(1).address, 0, 1024, 8), c.gateway.interface, 'InvalidDeadline', []);
    await expectRevert(factory.deploy(acct(0).address, acct(1).address, DEADLINE, 1, 8), c.gateway.interface, 'InvalidCapacity', []);
    await expectRevert(factory.deploy(acct(0).address, acct(1).address, DEADLINE, 1024, 0), c.gateway.interface, 'InvalidCapacity', []);
    await expectRevert(factory.deploy(acct(0).address, acct(1).address, DEADLINE, 1024, 257), c.gateway.interface, 'InvalidCapacity', []);

    const fresh = await factory.deploy(acct(0).address, acct(1).address, DEADLINE, 1024, 8);
    await fresh.waitForDeployment();
    const deployReceipt = await fresh.deploymentTransaction()?.wait();
    if (!deployReceipt) throw new Error('no deployment receipt');
    const ctorEvents = deployReceipt.logs.map((l) => fresh.interface.parseLog(l)).filter((d): d is LogDescription => d !== null);
    expect(ctorEvents.map((e) => [e.name, ...e.args.toArray()])).toEqual([
      ['GovernanceTransferred', ZeroAddress, acct(0).address],
      ['OperatorChanged', ZeroAddress, acct(1).address],
    ]);
    expect(await fresh.rollup()).toBe(ZeroAddress);

    // Unwired: the rollup is address(0), so nobody can consume.
    await expectRevert(fresh.consumeForcedOps('0x', 1, 0), fresh.interface, 'NotRollup', [acct(0).address]);

    await expectRevert(fresh.wire(ZeroAddress, acct(9).address), fresh.interface, 'ZeroAddress', []);
    await expectRevert(fresh.wire(acct(8).address, ZeroAddress), fresh.interface, 'ZeroAddress', []);
    await expectRevert(fresh.connect(acct(2)).wire(acct(8).address, acct(9).address), fresh.interface, 'NotGovernance', [acct(2).address]);

    const receipt = await gas.track('Gateway.wire', fresh.wire(acct(8).address, acct(9).address));
    expect(oneEvent(receipt, 'Wired', fresh).args.toArray()).toEqual([acct(8).address, acct(9).address]);
    expect(await fresh.rollup()).toBe(acct(8).address);
    expect(await fresh.provenance()).toBe(acct(9).address);
    await expectRevert(fresh.wire(acct(6).address, acct(7).address), fresh.interface, 'AlreadyWired', []);
  });

  it('setOperator rotates the operator and emits OperatorChanged', async () => {
    const receipt = await gas.track('Gateway.setOperator', c.gateway.setOperator(acct(6).address));
    expect(oneEvent(receipt, 'OperatorChanged').args.toArray()).toEqual([acct(1).address, acct(6).address]);
    expect(await c.gateway.operator()).toBe(acct(6).address);
    // Setting the same operator again is allowed and still emits.
    const same = await gas.track('Gateway.setOperator', c.gateway.setOperator(acct(6).address));
    expect(oneEvent(same, 'OperatorChanged').args.toArray()).toEqual([acct(6).address, acct(6).address]);
  });

  it('setOperator reverts NotGovernance (also for the operator itself) and ZeroAddress', async () => {
    await expectRevert(gw(1).setOperator(acct(6).address), c.gateway.interface, 'NotGovernance', [acct(1).address]);
    await expectRevert(c.gateway.setOperator(ZeroAddress), c.gateway.interface, 'ZeroAddress', []);
    expect(await c.gateway.operator()).toBe(acct(1).address);
  });
});

describe('forced queue without batches', () => {
  it('consumeForcedOps from any account but the rollup reverts NotRollup', async () => {
    const p = await registerPatient();
    const op = wireOp(OP_REGISTER_ACCOUNT, p.index, 0, p.key[0], p.key[1]);
    for (const i of [0, 1, 5]) {
      await expectRevert(gw(i).consumeForcedOps(op, 1, 0), c.gateway.interface, 'NotRollup', [acct(i).address]);
      await expectRevert(gw(i).consumeForcedOps('0x', 1, 0), c.gateway.interface, 'NotRollup', [acct(i).address]);
    }
    // NotRollup is checked before the length check.
    await expectRevert(gw(1).consumeForcedOps('0x01', 1, 0), c.gateway.interface, 'NotRollup', [acct(1).address]);
    expect(await c.gateway.forcedHead()).toBe(0n);
  });

  it('forcedOpAt beyond the queue reverts (array bounds panic)', async () => {
    await expect(c.gateway.forcedOpAt(0)).rejects.toThrow();
    await registerPatient();
    await expect(c.gateway.forcedOpAt(1)).rejects.toThrow();
  });

  it('forcedQueueOverdue: false when empty, false after a registration, true once the deadline has passed', async () => {
    expect(await c.gateway.forcedQueueOverdue()).toBe(false);
    await chain.mine(DEADLINE + 5);
    expect(await c.gateway.forcedQueueOverdue()).toBe(false); // empty queue never overdue

    const p = await registerPatient();
    const queuedAt = p.receipt.blockNumber;
    const [, queuedAtBlock] = await c.gateway.forcedOpAt(0);
    expect(queuedAtBlock).toBe(BigInt(queuedAt));
    expect(await c.gateway.forcedQueueOverdue()).toBe(false);

    // The boundary, pinned with historical calls: overdue iff block.number > queuedAt + deadline.
    await chain.mine(DEADLINE + 1);
    expect(await c.gateway.forcedQueueOverdue({ blockTag: queuedAt })).toBe(false);
    expect(await c.gateway.forcedQueueOverdue({ blockTag: queuedAt + DEADLINE })).toBe(false);
    expect(await c.gateway.forcedQueueOverdue({ blockTag: queuedAt + DEADLINE + 1 })).toBe(true);
    expect(await c.gateway.forcedQueueOverdue()).toBe(true);

    // Later operations do not reset the age of the oldest one.
    await registerPatient();
    expect(await c.gateway.forcedQueueOverdue()).toBe(true);
    expect(await c.gateway.forcedHead()).toBe(0n);
  });

  it('forcedQueueOverdue: a transaction mined in block queuedAt + deadline still sees the queue as on time', async () => {
    const p = await registerPatient();
    const queuedAt = p.receipt.blockNumber;
    // Mine so that the next transaction lands exactly in queuedAt + deadline.
    await chain.mine(DEADLINE - 1);
    const onTime = await gas.track('Gateway.setOperator', c.gateway.setOperator(acct(6).address));
    expect(onTime.blockNumber).toBe(queuedAt + DEADLINE);
    expect(await c.gateway.forcedQueueOverdue({ blockTag: onTime.blockNumber })).toBe(false);
    const late = await gas.track('Gateway.setOperator', c.gateway.setOperator(acct(7).address));
    expect(late.blockNumber).toBe(queuedAt + DEADLINE + 1);
    expect(await c.gateway.forcedQueueOverdue({ blockTag: late.blockNumber })).toBe(true);
  });
});

describe('capacities the circuit can prove', () => {
  it('refuses registrations past 2^D accounts, so no unprovable forced operation is ever queued', async () => {
    const small = await new Gateway__factory(acct(0)).deploy(acct(0).address, acct(1).address, DEADLINE, 3, 8);
    await small.waitForDeployment();
    for (let i = 0; i < 2; i++) {
      const [x, y] = babyJubKey();
      await gas.track('Gateway.registerPatient', small.connect(acct(5)).registerPatient(x, y, acct(5).address));
    }
    const [x, y] = babyJubKey();
    await expectRevert(small.connect(acct(5)).registerPatient(x, y, acct(5).address), small.interface, 'AccountSpaceExhausted', [3n]);
    const [ix, iy] = babyJubKey();
    await expectRevert(small.registerInstitution(acct(2).address, Role.Hospital, ix, iy, 'did:web:h'), small.interface, 'AccountSpaceExhausted', [3n]);
    expect(await small.forcedQueueLength()).toBe(2n);
  });

  it('refuses a forced revocation naming a consent slot past 2^S', async () => {
    const controller = acct(5);
    const p = await registerPatient(controller.address);
    const inst = await registerInstitution(2, Role.Insurer);
    const slots = await c.gateway.consentSlots();
    await expectRevert(gw(5).forceRevokeConsent(p.index, inst.index, 1, slots), c.gateway.interface, 'InvalidSlot', [slots, slots]);
    await gas.track('Gateway.forceRevokeConsent', gw(5).forceRevokeConsent(p.index, inst.index, 1, slots - 1n));
  });
});
