/**
 * The embedded backend: a Helia node over a filesystem blockstore (`<dir>/blocks`, one file per
 * block, written to a temp file and renamed, so a crash never leaves half a block and several
 * processes may share the directory) and datastore (`<dir>/datastore`: Helia's own metadata).
 *
 * No networking, by construction rather than by configuration: `createHeliaLight` builds Helia
 * without libp2p (no transports, listeners, bootstrap list, mDNS or DHT), without bitswap and
 * without the HTTP gateway broker that `createHelia` adds (which would fetch missing blocks from
 * public gateways). There is no block broker or router at all, and reads also pass
 * `offline: true`, so a missing block is NOT_FOUND at once instead of a network search.
 */
import { join } from 'node:path';
import { FsBlockstore } from 'blockstore-fs';
import { FsDatastore } from 'datastore-fs';
import { createHeliaLight, type Helia } from 'helia';
import type { CID } from 'multiformats/cid';
import { verifyBlock } from './cid.js';
import { StorageError } from './errors.js';
import { ContentStore, type BlockBackend, type BlockStorage } from './store.js';

export interface EmbeddedStorage extends BlockStorage {
  /** The node, started but offline; exposed so tests and tools can inspect it. */
  readonly helia: Helia;
}

export async function openEmbeddedStorage(dir: string): Promise<EmbeddedStorage> {
  const helia = createHeliaLight({
    blockstore: new FsBlockstore(join(dir, 'blocks')),
    datastore: new FsDatastore(join(dir, 'datastore')),
  });
  try {
    await helia.start(); // opens (creates) the two directories; starts nothing on the network
  } catch (err) {
    await helia.stop().catch(() => undefined);
    throw new StorageError('UNAVAILABLE', `cannot open the IPFS store in ${dir}: ${(err as Error).message}`, { cause: err });
  }
  const store = new ContentStore(new HeliaBackend(helia, `embedded Helia at ${dir}`));
  return Object.assign(store, { helia });
}

class HeliaBackend implements BlockBackend {
  /** Writes in progress by CID: see put. */
  private readonly writing = new Map<string, Promise<void>>();

  constructor(
    private readonly helia: Helia,
    readonly location: string,
  ) {}

  /**
   * blockstore-fs writes each block through a temp file named after the block, so two concurrent
   * writers of one block (identical chunks of one payload, or the same record put twice) would
   * share that file and the loser would stall ~1 s in steno's rename retries: one write per CID
   * at a time, the others wait for it.
   */
  put(cid: CID, bytes: Uint8Array): Promise<void> {
    const key = cid.toString();
    let write = this.writing.get(key);
    if (write === undefined) {
      write = this.write(cid, bytes).finally(() => this.writing.delete(key));
      this.writing.set(key, write);
    }
    return write;
  }

  /** Helia skips blocks it already has; a damaged copy (bit rot, a torn write) is replaced instead. */
  private async write(cid: CID, bytes: Uint8Array): Promise<void> {
    try {
      if (await this.helia.blockstore.has(cid)) {
        if (await this.intact(cid)) return;
        await this.helia.blockstore.delete(cid);
      }
      await this.helia.blockstore.put(cid, bytes);
    } catch (err) {
      throw this.failure(`cannot write ${cid}`, err);
    }
  }

  private async intact(cid: CID): Promise<boolean> {
    try {
      await verifyBlock(cid, await this.get(cid), this.location);
      return true;
    } catch {
      return false;
    }
  }

  async get(cid: CID): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    try {
      for await (const part of this.helia.blockstore.get(cid, { offline: true })) parts.push(part);
    } catch (err) {
      const name = (err as Error).name;
      if (name === 'BlockNotFoundWhileOfflineError' || name === 'NotFoundError') throw new StorageError('NOT_FOUND', `${cid} is not in ${this.location}`);
      throw this.failure(`cannot read ${cid}`, err);
    }
    return concat(parts);
  }

  async has(cid: CID): Promise<boolean> {
    try {
      return await this.helia.blockstore.has(cid);
    } catch (err) {
      throw this.failure(`cannot look up ${cid}`, err);
    }
  }

  async close(): Promise<void> {
    await this.helia.stop();
  }

  private failure(what: string, err: unknown): StorageError {
    return new StorageError('UNAVAILABLE', `${what} in ${this.location}: ${(err as Error).message}`, { cause: err });
  }
}

/** A fresh Uint8Array: the file stream hands out Buffers that may be slices of a shared pool. */
function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.byteLength;
  }
  return out;
}
