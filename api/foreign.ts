/**
 * The partner chain's ForeignRoots as the API asks it: checks of a settlement-chain account or
 * record index against a state root the relay delivered there, run as eth_calls on that chain
 * (the contract decides; the API only carries the question).
 */
import { JsonRpcProvider, isCallException } from 'ethers';
import { ForeignRoots__factory, type ForeignRoots } from '../contracts/types/index.js';
import type { AccountProof } from '../prover/stateHistory.js';
import { ApiError } from './errors.js';

export interface ForeignChainOptions {
  readonly chainId: number;
  readonly rpcUrl: string;
  readonly foreignRoots: string;
}

export class ForeignChain {
  readonly chainId: number;
  readonly address: string;
  private readonly provider: JsonRpcProvider;
  private readonly contract: ForeignRoots;

  constructor(opts: ForeignChainOptions) {
    this.chainId = opts.chainId;
    this.address = opts.foreignRoots;
    this.provider = new JsonRpcProvider(opts.rpcUrl, undefined, { staticNetwork: true });
    this.contract = ForeignRoots__factory.connect(opts.foreignRoots, this.provider);
  }

  verifyRecord(origin: number, batch: number, account: number, indexHash: bigint, proof: AccountProof): Promise<boolean> {
    return this.call(origin, batch, () => this.contract.verifyForeignRecord(origin, batch, account, indexHash, proofArg(proof)));
  }

  verifyIdentity(origin: number, batch: number, account: number, pubX: bigint, pubY: bigint, proof: AccountProof): Promise<boolean> {
    return this.call(origin, batch, () => this.contract.verifyForeignIdentity(origin, batch, account, pubX, pubY, proofArg(proof)));
  }

  private async call(origin: number, batch: number, run: () => Promise<boolean>): Promise<boolean> {
    try {
      return await run();
    } catch (err) {
      if (isCallException(err)) {
        const decoded = err.data ? this.contract.interface.parseError(err.data) : null;
        if (decoded?.name === 'UnknownRoot') {
          throw new ApiError('NOT_FOUND', `no state root of batch ${batch} from chain ${origin} has reached chain ${this.chainId} yet`);
        }
        if (decoded?.name === 'BadProofLength') {
          throw new ApiError('BAD_USER_INPUT', `the proof must have ${String(decoded.args[0])} siblings`, { argument: 'proof' });
        }
      }
      throw new ApiError('UNAVAILABLE', `chain ${this.chainId} could not be asked`);
    }
  }

  close(): void {
    this.provider.destroy();
  }
}

function proofArg(p: AccountProof) {
  return { account: p.account, pubX: p.pubX, pubY: p.pubY, nonce: p.nonce, indexHash: p.indexHash, consentRoot: p.consentRoot, siblings: [...p.siblings] };
}
