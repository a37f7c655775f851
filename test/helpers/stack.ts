/**
 * What the devnet end-to-end tests share: the environment of a test-profile devnet on free ports
 * in a temp data dir, Gateway registrations that return the L2 account index, and Gateway
 * governance through the devnet's council.
 */
import { HDNodeWallet, Mnemonic, type ContractTransactionReceipt } from 'ethers';
import { Council__factory, type Gateway } from '../../contracts/types/index.js';
import type { PublicKey } from '../../prover/signing.js';
import { freePort } from '../../scripts/devnet/anvil.js';
import { ANVIL_MNEMONIC } from '../../sdk/config.js';
import {
  devCouncilWallets,
  proposeAndExecute,
  registerInstitutionCall,
  rotateOperatorCall,
  setInstitutionActiveCall,
  type CouncilCall,
} from '../../sdk/governance.js';

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

/**
 * Runs Gateway governance calls the way the devnet governs: a proposal of the institutions'
 * council, signed by the dev members' quorum and submitted by the gateway's signer.
 */
export async function governGateway(gateway: Gateway, calls: (gatewayAddress: string) => CouncilCall[]): Promise<ContractTransactionReceipt> {
  const council = Council__factory.connect(await gateway.governance(), gateway.runner);
  return proposeAndExecute(council, devCouncilWallets(), calls(await gateway.getAddress()));
}

/** Registers an institution for anvil account `walletIndex` (through the council) and returns its account index. */
export async function registerInstitution(gateway: Gateway, walletIndex: number, role: number, key: PublicKey, did: string): Promise<number> {
  const account = devWallet(walletIndex).address;
  await governGateway(gateway, (g) => [registerInstitutionCall(g, { account, role, pubKey: [key.x, key.y], did })]);
  return Number((await gateway.institution(account)).accountIndex);
}

/** Rotates the sequencer operator through the council. */
export const setOperator = (gateway: Gateway, next: string): Promise<ContractTransactionReceipt> => governGateway(gateway, (g) => [rotateOperatorCall(g, next)]);

/** Activates or deactivates an institution through the council. */
export const setInstitutionActive = (gateway: Gateway, account: string, active: boolean): Promise<ContractTransactionReceipt> =>
  governGateway(gateway, (g) => [setInstitutionActiveCall(g, account, active)]);
