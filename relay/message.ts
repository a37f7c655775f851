/**
 * The state-root message RootPublisher dispatches and ForeignRoots accepts
 * (contracts/src/relay/RootMessage.sol), and the Hyperlane envelope around it.
 */
import { messageId as hyperlaneMessageId, parseMessage, type ParsedMessage } from '@hyperlane-xyz/utils';
import { AbiCoder, getAddress } from 'ethers';

export interface RootMessage {
  readonly originChainId: number;
  readonly rollup: string;
  readonly batchIndex: number;
  readonly stateRoot: bigint;
  readonly commitment: string;
}

const ROOT_TYPES = ['uint256', 'address', 'uint64', 'uint256', 'bytes32'] as const;

export class RootMessageError extends Error {
  override readonly name = 'RootMessageError';
}

export function encodeRootMessage(m: RootMessage): string {
  return AbiCoder.defaultAbiCoder().encode(ROOT_TYPES, [m.originChainId, m.rollup, m.batchIndex, m.stateRoot, m.commitment]);
}

export function decodeRootMessage(body: string): RootMessage {
  if ((body.length - 2) / 2 !== 160) throw new RootMessageError(`a root message is 160 bytes, got ${(body.length - 2) / 2}`);
  const [originChainId, rollup, batchIndex, stateRoot, commitment] = AbiCoder.defaultAbiCoder().decode(ROOT_TYPES, body) as unknown as [
    bigint,
    string,
    bigint,
    bigint,
    string,
  ];
  return { originChainId: Number(originChainId), rollup: getAddress(rollup), batchIndex: Number(batchIndex), stateRoot, commitment };
}

/** A dispatched Hyperlane message: its bytes, id and parsed envelope. */
export interface HyperlaneMessage extends ParsedMessage {
  readonly id: string;
  readonly bytes: string;
}

export function hyperlaneMessage(bytes: string): HyperlaneMessage {
  return { ...parseMessage(bytes), id: hyperlaneMessageId(bytes), bytes };
}
