/**
 * Checkpoints of the origin's MerkleTreeHook, as Hyperlane validators sign them and its
 * message-id multisig ISM checks them:
 *
 *   digest = toEthSignedMessageHash(keccak256(domainHash(origin, hook) || root || index || messageId))
 *
 * The digest comes from @hyperlane-xyz/utils (BaseValidator), the signed-checkpoint JSON has the
 * shape Hyperlane's checkpoint syncers store (S3CheckpointWithId), and the tree mirrors
 * Hyperlane's MerkleLib (an eth2-deposit-style incremental keccak tree of depth 32) so a
 * validator computes the root at each index itself rather than trusting a later chain read.
 */
import { BaseValidator, type S3CheckpointWithId } from '@hyperlane-xyz/utils';
import { concat, getAddress, getBytes, keccak256, toBeHex, zeroPadValue, type Signer } from 'ethers';

const TREE_DEPTH = 32;
const ZERO = `0x${'00'.repeat(32)}`;

const ZEROES: readonly string[] = (() => {
  const zeroes = [ZERO];
  for (let i = 1; i < TREE_DEPTH; i++) zeroes.push(keccak256(concat([zeroes[i - 1]!, zeroes[i - 1]!])));
  return zeroes;
})();

export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';
}

/** Hyperlane's MerkleLib.Tree: insert message ids in order, read the root after any count. */
export class CheckpointTree {
  private readonly branch: string[] = Array.from({ length: TREE_DEPTH }, () => ZERO);
  private size = 0;

  get count(): number {
    return this.size;
  }

  insert(messageId: string): void {
    let node = messageId;
    this.size += 1;
    let size = this.size;
    for (let i = 0; i < TREE_DEPTH; i++) {
      if ((size & 1) === 1) {
        this.branch[i] = node;
        return;
      }
      node = keccak256(concat([this.branch[i]!, node]));
      size = Math.floor(size / 2);
    }
    throw new CheckpointError('merkle tree full');
  }

  root(): string {
    let current = ZERO;
    for (let i = 0; i < TREE_DEPTH; i++) {
      const bit = Math.floor(this.size / 2 ** i) % 2;
      current = bit === 1 ? keccak256(concat([this.branch[i]!, current])) : keccak256(concat([current, ZEROES[i]!]));
    }
    return current;
  }
}

export interface CheckpointFields {
  /** Origin Hyperlane domain (the origin chain id here). */
  readonly origin: number;
  readonly merkleTreeHook: string;
  readonly root: string;
  readonly index: number;
  readonly messageId: string;
}

export type SignedCheckpoint = S3CheckpointWithId;

function checkpointOf(c: CheckpointFields): SignedCheckpoint['value'] {
  return {
    checkpoint: { root: c.root, index: c.index, mailbox_domain: c.origin, merkle_tree_hook_address: getAddress(c.merkleTreeHook) },
    message_id: c.messageId,
  };
}

/** A validator's signature over the checkpoint, in the syncer's JSON shape. */
export async function signCheckpoint(signer: Signer, c: CheckpointFields): Promise<SignedCheckpoint> {
  const value = checkpointOf(c);
  const signature = await signer.signMessage(BaseValidator.messageHash(value.checkpoint, value.message_id));
  return { value, signature };
}

/** The address that signed this checkpoint (whatever it claims). */
export function checkpointSigner(signed: SignedCheckpoint): string {
  return getAddress(BaseValidator.recoverAddress(signed));
}

export function checkpointFields(signed: SignedCheckpoint): CheckpointFields {
  const { checkpoint, message_id } = signed.value;
  return {
    origin: checkpoint.mailbox_domain,
    merkleTreeHook: getAddress(checkpoint.merkle_tree_hook_address),
    root: checkpoint.root,
    index: checkpoint.index,
    messageId: message_id,
  };
}

/**
 * Metadata for StorageMessageIdMultisigIsm.verify: origin tree (bytes32) | root | index (uint32)
 * | 65-byte signatures, in the ISM's validator order.
 */
export function messageIdMultisigMetadata(c: CheckpointFields, signatures: readonly string[]): string {
  if (c.index < 0 || c.index >= 2 ** 32) throw new CheckpointError(`checkpoint index ${c.index} is not a uint32`);
  return concat([zeroPadValue(getAddress(c.merkleTreeHook), 32), c.root, toBeHex(c.index, 4), ...signatures.map((s) => getBytes(s))]);
}
