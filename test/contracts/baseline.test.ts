/**
 * BaselineRegistry: the L1-only baseline the benchmarks compare the rollup against. Every success
 * and revert path, plus a realistic end-to-end flow whose gas per function feeds the comparison.
 * Like an L2 transaction, every successful operation bumps its signer's nonce (the patient's for
 * upload, update, grant and revoke; the grantee's for access and claim).
 */
import { id, ZeroHash, type ContractTransactionResponse, type HDNodeWallet, type TransactionReceipt } from 'ethers';
import { useSettlementChain, babyJubKey } from '../helpers/chain.js';
import { expectRevert } from '../helpers/revert.js';
import { GasTable } from '../helpers/gas.js';

const SCOPE_READ = 1;
const SCOPE_CLAIM = 2;
const DAY = 86_400;

const gas = new GasTable('BaselineRegistry');
const { chain, c } = useSettlementChain({ gas });

/** anvil dev account i (0 deploys; the tests use 2 and up as patients, hospitals, insurers). */
function account(i: number): HDNodeWallet {
  const a = chain.accounts[i];
  if (!a) throw new Error(`no dev account ${i}`);
  return a;
}

const as = (i: number) => c.baseline.connect(account(i));
const cid = (label: string) => id(`ipfs://${label}`);

async function now(): Promise<number> {
  const block = await chain.provider.getBlock('latest');
  if (!block) throw new Error('no latest block');
  return block.timestamp;
}

async function advance(seconds: number): Promise<void> {
  await chain.provider.send('evm_increaseTime', [seconds]);
  await chain.provider.send('evm_mine', []);
}

/** The decoded events named `name` the registry emitted in `receipt`. */
function events(receipt: TransactionReceipt, name: string): unknown[][] {
  const out: unknown[][] = [];
  for (const log of receipt.logs) {
    const parsed = c.baseline.interface.parseLog(log);
    if (parsed?.name === name) out.push(parsed.args.toArray());
  }
  return out;
}

/** Registers dev account i and returns its account index. */
async function register(i: number): Promise<number> {
  const [x, y] = babyJubKey();
  await gas.track('BaselineRegistry.register', as(i).register(x, y));
  return Number(await c.baseline.accountOf(account(i).address));
}

async function upload(i: number, cidHash: string): Promise<TransactionReceipt> {
  return gas.track('BaselineRegistry.uploadRecord', as(i).uploadRecord(cidHash));
}

async function grant(i: number, grantee: number, scope: number, expiresAt: number): Promise<TransactionReceipt> {
  return gas.track('BaselineRegistry.grant', as(i).grant(grantee, scope, expiresAt));
}

describe('constants and initial state', () => {
  it('exposes the scopes and starts with no accounts', async () => {
    expect(await c.baseline.SCOPE_READ()).toBe(BigInt(SCOPE_READ));
    expect(await c.baseline.SCOPE_CLAIM()).toBe(BigInt(SCOPE_CLAIM));
    expect(await c.baseline.accountCount()).toBe(0n);
    expect(await c.baseline.accountOf(account(2).address)).toBe(0n);
    expect(await c.baseline.ownerOf(1)).toBe('0x0000000000000000000000000000000000000000');
  });
});

describe('register', () => {
  it('assigns consecutive indexes from 1, records owner both ways and emits AccountRegistered', async () => {
    for (const [n, i] of [2, 3, 4].entries()) {
      const [x, y] = babyJubKey();
      expect(await as(i).register.staticCall(x, y)).toBe(BigInt(n + 1));
      const receipt = await gas.track('BaselineRegistry.register', as(i).register(x, y));
      expect(events(receipt, 'AccountRegistered')).toEqual([[BigInt(n + 1), account(i).address, x, y]]);
      expect(await c.baseline.accountOf(account(i).address)).toBe(BigInt(n + 1));
      expect(await c.baseline.ownerOf(n + 1)).toBe(account(i).address);
    }
    expect(await c.baseline.accountCount()).toBe(3n);
  });

  it('reverts AlreadyRegistered for an address registered before, leaving the count unchanged', async () => {
    await register(2);
    const [x, y] = babyJubKey();
    await expectRevert(as(2).register(x, y), c.baseline.interface, 'AlreadyRegistered', [account(2).address]);
    expect(await c.baseline.accountCount()).toBe(1n);
    expect(await c.baseline.accountOf(account(2).address)).toBe(1n);
  });
});

describe('NotRegistered', () => {
  const calls: [string, (i: number) => Promise<unknown>][] = [
    ['uploadRecord', (i) => as(i).uploadRecord(cid('x'))],
    ['updateRecord', (i) => as(i).updateRecord(cid('x'))],
    ['grant', async (i) => as(i).grant(1, SCOPE_READ, (await now()) + DAY)],
    ['revoke', (i) => as(i).revoke(1)],
    ['logAccess', (i) => as(i).logAccess(1)],
    ['claim', (i) => as(i).claim(1, cid('claim'))],
  ];
  it.each(calls)('%s from an unregistered address reverts NotRegistered(caller)', async (_name, call) => {
    await register(2); // account 1 exists, so only the caller check can fail
    await expectRevert(call(3), c.baseline.interface, 'NotRegistered', [account(3).address]);
  });
});

describe('uploadRecord', () => {
  it('stores the index CID hash as version 1 and emits RecordUploaded', async () => {
    const patient = await register(2);
    const receipt = await upload(2, cid('index-v1'));
    expect(events(receipt, 'RecordUploaded')).toEqual([[BigInt(patient), cid('index-v1'), 1n]]);
    expect(await c.baseline.indexCidHash(patient)).toBe(cid('index-v1'));
    expect(await c.baseline.indexVersion(patient)).toBe(1n);
  });

  it('reverts RecordExists on a second upload (later versions are updates)', async () => {
    const patient = await register(2);
    await upload(2, cid('index-v1'));
    await expectRevert(as(2).uploadRecord(cid('other')), c.baseline.interface, 'RecordExists', [BigInt(patient)]);
    expect(await c.baseline.indexCidHash(patient)).toBe(cid('index-v1'));
    expect(await c.baseline.indexVersion(patient)).toBe(1n);
  });

  it("keeps patients' records apart", async () => {
    const p1 = await register(2);
    const p2 = await register(3);
    await upload(2, cid('p1'));
    expect(await c.baseline.indexVersion(p2)).toBe(0n);
    expect(await c.baseline.indexCidHash(p2)).toBe(ZeroHash);
    await upload(3, cid('p2'));
    expect(await c.baseline.indexCidHash(p1)).toBe(cid('p1'));
    expect(await c.baseline.indexCidHash(p2)).toBe(cid('p2'));
  });
});

describe('updateRecord', () => {
  it('replaces the CID hash and increments the version on every update', async () => {
    const patient = await register(2);
    await upload(2, cid('v1'));
    for (const version of [2, 3, 4]) {
      const receipt = await gas.track('BaselineRegistry.updateRecord', as(2).updateRecord(cid(`v${version}`)));
      expect(events(receipt, 'RecordUploaded')).toEqual([[BigInt(patient), cid(`v${version}`), BigInt(version)]]);
      expect(await c.baseline.indexVersion(patient)).toBe(BigInt(version));
      expect(await c.baseline.indexCidHash(patient)).toBe(cid(`v${version}`));
    }
  });

  it('reverts NoRecord before the first upload', async () => {
    const patient = await register(2);
    await expectRevert(as(2).updateRecord(cid('v1')), c.baseline.interface, 'NoRecord', [BigInt(patient)]);
    expect(await c.baseline.indexVersion(patient)).toBe(0n);
  });
});

describe('grant', () => {
  it("stores the consent, emits ConsentGranted and bumps the patient's nonce (not the grantee's)", async () => {
    const patient = await register(2);
    const hospital = await register(3);
    const expiresAt = (await now()) + DAY;
    const receipt = await grant(2, hospital, SCOPE_READ, expiresAt);
    expect(events(receipt, 'ConsentGranted')).toEqual([[BigInt(patient), BigInt(hospital), BigInt(SCOPE_READ), BigInt(expiresAt)]]);
    const consent = await c.baseline.consents(patient, hospital);
    expect(consent.scope).toBe(BigInt(SCOPE_READ));
    expect(consent.expiresAt).toBe(BigInt(expiresAt));
    // Directional: the grantee has not granted anything back.
    expect((await c.baseline.consents(hospital, patient)).scope).toBe(0n);
    expect(await c.baseline.nonceOf(patient)).toBe(1n);
    expect(await c.baseline.nonceOf(hospital)).toBe(0n);
  });

  it.each([SCOPE_READ, SCOPE_CLAIM, SCOPE_READ | SCOPE_CLAIM])('accepts scope %i (READ, CLAIM, READ|CLAIM)', async (scope) => {
    const patient = await register(2);
    const grantee = await register(3);
    await grant(2, grantee, scope, (await now()) + DAY);
    expect((await c.baseline.consents(patient, grantee)).scope).toBe(BigInt(scope));
  });

  it('overwrites an earlier consent to the same grantee', async () => {
    const patient = await register(2);
    const grantee = await register(3);
    const t = await now();
    await grant(2, grantee, SCOPE_READ, t + DAY);
    await grant(2, grantee, SCOPE_CLAIM, t + 2 * DAY);
    const consent = await c.baseline.consents(patient, grantee);
    expect(consent.scope).toBe(BigInt(SCOPE_CLAIM));
    expect(consent.expiresAt).toBe(BigInt(t + 2 * DAY));
    await expectRevert(as(3).logAccess(patient), c.baseline.interface, 'NoConsent', [BigInt(patient), BigInt(grantee), BigInt(SCOPE_READ)]);
  });

  it.each([0, 2, 99])('reverts UnknownAccount for grantee %i that is not registered', async (grantee) => {
    await register(2);
    await expectRevert(as(2).grant(grantee, SCOPE_READ, (await now()) + DAY), c.baseline.interface, 'UnknownAccount', [BigInt(grantee)]);
  });

  it('reverts InvalidConsent for scope 0', async () => {
    const patient = await register(2);
    const grantee = await register(3);
    await expectRevert(as(2).grant(grantee, 0, (await now()) + DAY), c.baseline.interface, 'InvalidConsent', []);
    expect((await c.baseline.consents(patient, grantee)).scope).toBe(0n);
  });

  it.each([4, 5, 7, 8, 128, 255])('reverts InvalidConsent for scope %i (a bit other than READ|CLAIM), storing nothing', async (scope) => {
    const patient = await register(2);
    const grantee = await register(3);
    await expectRevert(as(2).grant(grantee, scope, (await now()) + DAY), c.baseline.interface, 'InvalidConsent', []);
    const consent = await c.baseline.consents(patient, grantee);
    expect(consent.scope).toBe(0n);
    expect(consent.expiresAt).toBe(0n);
    expect(await c.baseline.nonceOf(patient)).toBe(0n);
  });

  it('reverts InvalidConsent for an expiry in the past, 0, or the current block time', async () => {
    await register(2);
    const grantee = await register(3);
    const t = await now();
    await expectRevert(as(2).grant(grantee, SCOPE_READ, t - 1), c.baseline.interface, 'InvalidConsent', []);
    await expectRevert(as(2).grant(grantee, SCOPE_READ, t - DAY), c.baseline.interface, 'InvalidConsent', []);
    await expectRevert(as(2).grant(grantee, SCOPE_READ, 0), c.baseline.interface, 'InvalidConsent', []);
    // An expiry equal to the block's own timestamp is already over: expiresAt must be in the future.
    const next = t + 100;
    await chain.provider.send('evm_setNextBlockTimestamp', [next]);
    await expectRevert(as(2).grant(grantee, SCOPE_READ, next), c.baseline.interface, 'InvalidConsent', []);
    await chain.provider.send('evm_setNextBlockTimestamp', [next]);
    await grant(2, grantee, SCOPE_READ, next + 1);
  });

  it('checks the grantee before the consent fields', async () => {
    await register(2);
    await expectRevert(as(2).grant(7, 0, 0), c.baseline.interface, 'UnknownAccount', [7n]);
    await expectRevert(as(2).grant(7, 255, 0), c.baseline.interface, 'UnknownAccount', [7n]);
  });
});

describe('revoke', () => {
  it("deletes the consent, emits ConsentRevoked and bumps the patient's nonce; access afterwards reverts NoConsent", async () => {
    const patient = await register(2);
    const hospital = await register(3);
    await upload(2, cid('v1'));
    await grant(2, hospital, SCOPE_READ | SCOPE_CLAIM, (await now()) + DAY);
    await gas.track('BaselineRegistry.logAccess', as(3).logAccess(patient));
    expect(await c.baseline.nonceOf(patient)).toBe(2n);

    const receipt = await gas.track('BaselineRegistry.revoke', as(2).revoke(hospital));
    expect(events(receipt, 'ConsentRevoked')).toEqual([[BigInt(patient), BigInt(hospital)]]);
    expect(await c.baseline.nonceOf(patient)).toBe(3n);
    expect(await c.baseline.nonceOf(hospital)).toBe(1n);
    const consent = await c.baseline.consents(patient, hospital);
    expect(consent.scope).toBe(0n);
    expect(consent.expiresAt).toBe(0n);
    await expectRevert(as(3).logAccess(patient), c.baseline.interface, 'NoConsent', [BigInt(patient), BigInt(hospital), BigInt(SCOPE_READ)]);
    await expectRevert(as(3).claim(patient, cid('claim')), c.baseline.interface, 'NoConsent', [
      BigInt(patient),
      BigInt(hospital),
      BigInt(SCOPE_CLAIM),
    ]);
  });

  it('only removes the consent to that grantee', async () => {
    const patient = await register(2);
    const hospital = await register(3);
    const lab = await register(4);
    const t = await now();
    await grant(2, hospital, SCOPE_READ, t + DAY);
    await grant(2, lab, SCOPE_READ, t + DAY);
    await gas.track('BaselineRegistry.revoke', as(2).revoke(hospital));
    await gas.track('BaselineRegistry.logAccess', as(4).logAccess(patient));
    await expectRevert(as(3).logAccess(patient), c.baseline.interface, 'NoConsent', [BigInt(patient), BigInt(hospital), BigInt(SCOPE_READ)]);
  });

  it('reverts NothingToRevoke when there is no consent: unknown grantee, index 0, never granted, already revoked', async () => {
    const patient = await register(2);
    const hospital = await register(3);
    const lab = await register(4);
    await expectRevert(as(2).revoke(42), c.baseline.interface, 'NothingToRevoke', [BigInt(patient), 42n]);
    await expectRevert(as(2).revoke(0), c.baseline.interface, 'NothingToRevoke', [BigInt(patient), 0n]);
    await expectRevert(as(2).revoke(hospital), c.baseline.interface, 'NothingToRevoke', [BigInt(patient), BigInt(hospital)]);
    // A consent the grantee gave the patient is not the patient's to revoke.
    await grant(3, patient, SCOPE_READ, (await now()) + DAY);
    await expectRevert(as(2).revoke(hospital), c.baseline.interface, 'NothingToRevoke', [BigInt(patient), BigInt(hospital)]);
    // Once revoked, a second revoke has nothing left.
    await grant(2, lab, SCOPE_READ, (await now()) + DAY);
    await gas.track('BaselineRegistry.revoke', as(2).revoke(lab));
    await expectRevert(as(2).revoke(lab), c.baseline.interface, 'NothingToRevoke', [BigInt(patient), BigInt(lab)]);
    // Only the successful grant and revoke counted.
    expect(await c.baseline.nonceOf(patient)).toBe(2n);
  });

  it('an expired consent can still be revoked', async () => {
    const patient = await register(2);
    const hospital = await register(3);
    await grant(2, hospital, SCOPE_READ, (await now()) + 600);
    await advance(600 + 60);
    const receipt = await gas.track('BaselineRegistry.revoke', as(2).revoke(hospital));
    expect(events(receipt, 'ConsentRevoked')).toEqual([[BigInt(patient), BigInt(hospital)]]);
    expect((await c.baseline.consents(patient, hospital)).expiresAt).toBe(0n);
  });
});

describe('logAccess (needs SCOPE_READ)', () => {
  let patient: number;
  let hospital: number;
  beforeEach(async () => {
    patient = await register(2);
    hospital = await register(3);
    await upload(2, cid('index'));
  });
  const noRead = () => [BigInt(patient), BigInt(hospital), BigInt(SCOPE_READ)];

  it('emits AccessLogged with the current index CID hash and bumps the accessor nonce', async () => {
    await grant(2, hospital, SCOPE_READ, (await now()) + DAY);
    const receipt = await gas.track('BaselineRegistry.logAccess', as(3).logAccess(patient));
    expect(events(receipt, 'AccessLogged')).toEqual([[BigInt(patient), BigInt(hospital), cid('index')]]);
    expect(await c.baseline.nonceOf(hospital)).toBe(1n);
  });

  it('accepts a combined READ|CLAIM consent', async () => {
    await grant(2, hospital, SCOPE_READ | SCOPE_CLAIM, (await now()) + DAY);
    await gas.track('BaselineRegistry.logAccess', as(3).logAccess(patient));
  });

  it('reverts NoConsent without any consent', async () => {
    await expectRevert(as(3).logAccess(patient), c.baseline.interface, 'NoConsent', noRead());
  });

  it('reverts NoConsent with only SCOPE_CLAIM', async () => {
    await grant(2, hospital, SCOPE_CLAIM, (await now()) + DAY);
    await expectRevert(as(3).logAccess(patient), c.baseline.interface, 'NoConsent', noRead());
  });

  it('reverts NoConsent when the consent was given to someone else', async () => {
    const lab = await register(4);
    await grant(2, lab, SCOPE_READ, (await now()) + DAY);
    await expectRevert(as(3).logAccess(patient), c.baseline.interface, 'NoConsent', noRead());
  });

  it('reverts NoConsent after the consent expired', async () => {
    const expiresAt = (await now()) + 3_600;
    await grant(2, hospital, SCOPE_READ, expiresAt);
    await gas.track('BaselineRegistry.logAccess', as(3).logAccess(patient)); // still valid
    await advance(3_600 + 60);
    expect(await now()).toBeGreaterThan(expiresAt);
    await expectRevert(as(3).logAccess(patient), c.baseline.interface, 'NoConsent', noRead());
    expect(await c.baseline.nonceOf(hospital)).toBe(1n); // only the successful access counted
  });

  it('is still valid in the block whose timestamp equals expiresAt, and not one second later', async () => {
    const expiresAt = (await now()) + 3_600;
    await grant(2, hospital, SCOPE_READ, expiresAt);
    await chain.provider.send('evm_setNextBlockTimestamp', [expiresAt]);
    const receipt = await gas.track('BaselineRegistry.logAccess', as(3).logAccess(patient));
    expect((await chain.provider.getBlock(receipt.blockNumber))?.timestamp).toBe(expiresAt);
    await chain.provider.send('evm_setNextBlockTimestamp', [expiresAt + 1]);
    await expectRevert(as(3).logAccess(patient), c.baseline.interface, 'NoConsent', noRead());
    await chain.provider.send('evm_mine', []); // consume the pinned timestamp
  });

  it('a scope with neither READ nor CLAIM bit (4) cannot be granted, so access and claim stay refused', async () => {
    await expectRevert(as(2).grant(hospital, 4, (await now()) + DAY), c.baseline.interface, 'InvalidConsent', []);
    await expectRevert(as(3).logAccess(patient), c.baseline.interface, 'NoConsent', noRead());
    await expectRevert(as(3).claim(patient, cid('c')), c.baseline.interface, 'NoConsent', [
      BigInt(patient),
      BigInt(hospital),
      BigInt(SCOPE_CLAIM),
    ]);
  });
});

describe('claim (needs SCOPE_CLAIM)', () => {
  let patient: number;
  let insurer: number;
  beforeEach(async () => {
    patient = await register(2);
    insurer = await register(5);
    await upload(2, cid('index'));
  });
  const noClaim = () => [BigInt(patient), BigInt(insurer), BigInt(SCOPE_CLAIM)];

  it('emits ClaimFiled with the record reference and bumps the insurer nonce', async () => {
    await grant(2, insurer, SCOPE_CLAIM, (await now()) + DAY);
    const receipt = await gas.track('BaselineRegistry.claim', as(5).claim(patient, cid('claim-1')));
    expect(events(receipt, 'ClaimFiled')).toEqual([[BigInt(patient), BigInt(insurer), cid('claim-1')]]);
    expect(await c.baseline.nonceOf(insurer)).toBe(1n);
  });

  it('reverts NoConsent without any consent', async () => {
    await expectRevert(as(5).claim(patient, cid('c')), c.baseline.interface, 'NoConsent', noClaim());
  });

  it('reverts NoConsent with only SCOPE_READ', async () => {
    await grant(2, insurer, SCOPE_READ, (await now()) + DAY);
    await expectRevert(as(5).claim(patient, cid('c')), c.baseline.interface, 'NoConsent', noClaim());
  });

  it('reverts NoConsent after the consent expired', async () => {
    await grant(2, insurer, SCOPE_CLAIM, (await now()) + 600);
    await advance(601 + 60);
    await expectRevert(as(5).claim(patient, cid('c')), c.baseline.interface, 'NoConsent', noClaim());
  });
});

describe('nonceOf', () => {
  it("increments the patient's nonce per upload/update/grant/revoke and the grantee's per access/claim", async () => {
    const patient = await register(2);
    const hospital = await register(3);
    const insurer = await register(5);
    const nonces = async () => [await c.baseline.nonceOf(patient), await c.baseline.nonceOf(hospital), await c.baseline.nonceOf(insurer)];
    expect(await nonces()).toEqual([0n, 0n, 0n]);

    await upload(2, cid('v1'));
    expect(await nonces()).toEqual([1n, 0n, 0n]);
    await gas.track('BaselineRegistry.updateRecord', as(2).updateRecord(cid('v2')));
    expect(await nonces()).toEqual([2n, 0n, 0n]);

    // grant bumps the patient's (the signer's) nonce, not the grantee's
    const t = await now();
    await grant(2, hospital, SCOPE_READ, t + DAY);
    await grant(2, insurer, SCOPE_CLAIM, t + DAY);
    expect(await nonces()).toEqual([4n, 0n, 0n]);

    await gas.track('BaselineRegistry.logAccess', as(3).logAccess(patient));
    await gas.track('BaselineRegistry.logAccess', as(3).logAccess(patient));
    expect(await nonces()).toEqual([4n, 2n, 0n]);
    await gas.track('BaselineRegistry.claim', as(5).claim(patient, cid('claim')));
    expect(await nonces()).toEqual([4n, 2n, 1n]);

    // a reverted call leaves nonces alone
    await expectRevert(as(5).logAccess(patient), c.baseline.interface, 'NoConsent');
    await expectRevert(as(2).uploadRecord(cid('again')), c.baseline.interface, 'RecordExists');
    await expectRevert(as(2).grant(hospital, 4, t + DAY), c.baseline.interface, 'InvalidConsent');
    await expectRevert(as(2).revoke(42), c.baseline.interface, 'NothingToRevoke');
    expect(await nonces()).toEqual([4n, 2n, 1n]);

    // revoke bumps the patient's nonce too
    await gas.track('BaselineRegistry.revoke', as(2).revoke(hospital));
    expect(await nonces()).toEqual([5n, 2n, 1n]);
    await expectRevert(as(2).revoke(hospital), c.baseline.interface, 'NothingToRevoke');
    expect(await nonces()).toEqual([5n, 2n, 1n]);
  });
});

describe('full flow', () => {
  it('patient registers, uploads, grants hospital read and insurer claim; hospital reads, insurer claims; patient updates and revokes', async () => {
    const [patientW, hospitalW, insurerW] = [account(6), account(7), account(8)];
    const receipts: TransactionReceipt[] = [];
    /** One flow step: sent, checked, gas recorded under "<function> (flow)". */
    const step = async (fn: string, tx: Promise<ContractTransactionResponse>) => {
      const receipt = await gas.track(`BaselineRegistry.${fn} (flow)`, tx);
      receipts.push(receipt);
      return receipt;
    };
    const patientC = c.baseline.connect(patientW);
    const hospitalC = c.baseline.connect(hospitalW);
    const insurerC = c.baseline.connect(insurerW);

    await step('register', patientC.register(...babyJubKey()));
    await step('register', hospitalC.register(...babyJubKey()));
    await step('register', insurerC.register(...babyJubKey()));
    const patient = Number(await c.baseline.accountOf(patientW.address));
    const hospital = Number(await c.baseline.accountOf(hospitalW.address));
    const insurer = Number(await c.baseline.accountOf(insurerW.address));
    expect([patient, hospital, insurer]).toEqual([1, 2, 3]);

    await step('uploadRecord', patientC.uploadRecord(cid('fhir-index-v1')));
    const t = await now();
    await step('grant', patientC.grant(hospital, SCOPE_READ, t + 30 * DAY));
    await step('grant', patientC.grant(insurer, SCOPE_CLAIM, t + 90 * DAY));
    const firstAccess = await step('logAccess', hospitalC.logAccess(patient));
    const claimed = await step('claim', insurerC.claim(patient, cid('claim-2024-001')));
    await step('updateRecord', patientC.updateRecord(cid('fhir-index-v2')));
    const secondAccess = await step('logAccess', hospitalC.logAccess(patient));
    await step('revoke', patientC.revoke(hospital));
    await step('revoke', patientC.revoke(insurer));

    expect(events(firstAccess, 'AccessLogged')).toEqual([[BigInt(patient), BigInt(hospital), cid('fhir-index-v1')]]);
    expect(events(secondAccess, 'AccessLogged')).toEqual([[BigInt(patient), BigInt(hospital), cid('fhir-index-v2')]]);
    expect(events(claimed, 'ClaimFiled')).toEqual([[BigInt(patient), BigInt(insurer), cid('claim-2024-001')]]);
    expect(await c.baseline.indexVersion(patient)).toBe(2n);
    // upload, 2 grants, update, 2 revokes: every patient operation bumps its nonce
    expect(await c.baseline.nonceOf(patient)).toBe(6n);
    expect(await c.baseline.nonceOf(hospital)).toBe(2n);
    expect(await c.baseline.nonceOf(insurer)).toBe(1n);
    await expectRevert(hospitalC.logAccess(patient), c.baseline.interface, 'NoConsent', [BigInt(patient), BigInt(hospital), BigInt(SCOPE_READ)]);
    await expectRevert(insurerC.claim(patient, cid('claim-2024-002')), c.baseline.interface, 'NoConsent', [
      BigInt(patient),
      BigInt(insurer),
      BigInt(SCOPE_CLAIM),
    ]);

    const total = receipts.reduce((sum, r) => sum + r.gasUsed, 0n);
    console.log(`BaselineRegistry full flow: ${receipts.length} transactions, ${total} gas`);
  });
});
