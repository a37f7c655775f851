/**
 * What the devnet end-to-end tests share: the environment of a test-profile devnet on free ports
 * in a temp data dir, and Gateway registrations by governance that return the L2 account index.
 */
import { HDNodeWallet, Mnemonic } from 'ethers';
import type { Gateway } from '../../contracts/types/index.js';
import type { PublicKey } from '../../prover/signing.js';
import { freePort } from '../../scripts/devnet/anvil.js';
import { ANVIL_MNEMONIC } from '../../sdk/config.js';

/** DATA_DIR, the test circuit, both chains on free ports (settlement 1 s blocks), plus `extra`. */
export async function devnetEnv(dir: string, extra: Record<string, string> = {}): Promise<Record<string, string>> {
  return {
    DATA_DIR: dir,
    CIRCUIT_PROFILE: 'test',
    SETTLEMENT_PORT: String(await freePort()),
    PARTNER_PORT: String(await freePort()),
    SETTLEMENT_BLOCK_TIME: '1',
    ...extra,
  };
}

/** anvil's i-th well-known account (the devnet's mnemonic). */
export const devWallet = (i: number): HDNodeWallet => HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(ANVIL_MNEMONIC), `m/44'/60'/0'/0/${i}`);

/** Registers a patient key (by the gateway's signer) and returns its account index. */
export async function registerPatient(gateway: Gateway, key: PublicKey, controller: string): Promise<number> {
  const r = await (await gateway.registerPatient(key.x, key.y, controller)).wait();
  const log = r!.logs.map((l) => gateway.interface.parseLog(l)).find((l) => l?.name === 'PatientRegistered');
  if (!log) throw new Error('registerPatient emitted no PatientRegistered');
  return Number(log.args.accountIndex);
}

/** Registers an institution for anvil account `walletIndex` (governance signs) and returns its account index. */
export async function registerInstitution(gateway: Gateway, walletIndex: number, role: number, key: PublicKey, did: string): Promise<number> {
  const address = devWallet(walletIndex).address;
  await (await gateway.registerInstitution(address, role, key.x, key.y, did)).wait();
  return Number((await gateway.institution(address)).accountIndex);
}
