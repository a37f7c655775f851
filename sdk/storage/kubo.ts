/**
 * The Kubo backend: a remote node's RPC API through kubo-rpc-client. The node is trusted with
 * availability only: ContentStore re-hashes every block it returns, and put checks that the node
 * stored the block under the CID computed here.
 *
 * Every request carries its own deadline (the client's `timeout` option is not applied to
 * fetch in kubo-rpc-client 7). A block the node lacks makes block/get search the IPFS network, so a
 * missing block surfaces as UNAVAILABLE after the deadline; has() asks with `offline=true`
 * (Kubo's global option) and so answers from the node's own blockstore at once.
 */
import { create, type BlockPutOptions, type HTTPRPCOptions, type KuboRPCClient } from 'kubo-rpc-client';
import type { CID } from 'multiformats/cid';
import { CODEC_NAMES, type ContentCodec } from './cid.js';
import { StorageError } from './errors.js';
import { ContentStore, type BlockBackend, type BlockStorage } from './store.js';

export const DEFAULT_KUBO_TIMEOUT_MS = 30_000;

export interface KuboStorageOptions {
  /** The RPC API root, e.g. http://127.0.0.1:5001 (the client appends /api/v0). */
  readonly url: string;
  /** Deadline of each RPC request. */
  readonly timeoutMs?: number;
}

/**
 * Opens nothing yet: the node is first contacted by the first operation. Credentials in the URL
 * (http://user:pass@host:5001, for Kubo's API.Authorizations or a proxy) become a Basic
 * Authorization header, as fetch refuses URLs that carry them, and stay out of messages.
 */
export function openKuboStorage(options: KuboStorageOptions): BlockStorage {
  const { url, authorization } = splitCredentials(options.url);
  const rpc = create({ url, headers: authorization === undefined ? undefined : { authorization } });
  return new ContentStore(new KuboBackend(rpc, `Kubo at ${url}`, options.timeoutMs ?? DEFAULT_KUBO_TIMEOUT_MS));
}

class KuboBackend implements BlockBackend {
  constructor(
    private readonly rpc: KuboRPCClient,
    readonly location: string,
    private readonly timeoutMs: number,
  ) {}

  async put(cid: CID, bytes: Uint8Array): Promise<void> {
    // cid-codec + mhtype give CIDv1 (Kubo >= 0.13); pin so the node's GC never drops a record.
    const stored = await this.call('block/put', cid, (signal) => {
      const options: BlockPutOptions & { cidCodec: string } = { signal, cidCodec: CODEC_NAMES[cid.code as ContentCodec], mhtype: 'sha2-256', pin: true };
      return this.rpc.block.put(bytes, options);
    });
    if (!stored.equals(cid)) throw new StorageError('CID_MISMATCH', `${this.location} stored a block as ${stored}, expected ${cid}`);
  }

  async get(cid: CID): Promise<Uint8Array> {
    return this.call('block/get', cid, (signal) => this.rpc.block.get(cid, { signal }));
  }

  async has(cid: CID): Promise<boolean> {
    try {
      await this.call('block/stat', cid, (signal) => {
        const options: HTTPRPCOptions & { offline: boolean } = { signal, offline: true };
        return this.rpc.block.stat(cid, options);
      });
      return true;
    } catch (err) {
      if (err instanceof StorageError && err.code === 'NOT_FOUND') return false;
      throw err;
    }
  }

  async close(): Promise<void> {
    // Nothing to release: requests go through the global fetch dispatcher.
  }

  private async call<T>(command: string, cid: CID, request: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const signal = AbortSignal.timeout(this.timeoutMs);
    try {
      return await request(signal);
    } catch (err) {
      if (signal.aborted) {
        throw new StorageError('UNAVAILABLE', `${this.location} did not answer ${command} ${cid} within ${this.timeoutMs} ms (node down or stuck, or the block is neither on it nor found on its network)`, { cause: err });
      }
      const error = err as Error & { response?: { status?: number }; cause?: { code?: string; message?: string } };
      if (error.name === 'HTTPError') {
        // Kubo answers command errors with 500, e.g. "block was not found locally (offline): ipld:
        // could not find <cid>"; a 404 means the URL is not a Kubo RPC API, not a missing block.
        if (error.response?.status === 500 && /not found|could not find/i.test(error.message)) {
          throw new StorageError('NOT_FOUND', `${cid} is not on ${this.location}`, { cause: err });
        }
        const hint = error.response?.status === 404 ? ' (is this a Kubo RPC API root, like http://127.0.0.1:5001?)' : '';
        throw new StorageError('UNAVAILABLE', `${this.location} failed ${command} ${cid}: HTTP ${error.response?.status} ${error.message}${hint}`, { cause: err });
      }
      const reason = error.cause?.code ?? error.cause?.message ?? error.message;
      throw new StorageError('UNAVAILABLE', `cannot reach ${this.location} (${command} ${cid}): ${reason}`, { cause: err });
    }
  }
}

function splitCredentials(raw: string): { url: string; authorization?: string } {
  const parsed = URL.parse(raw);
  if (parsed === null || (parsed.username === '' && parsed.password === '')) return { url: raw };
  const credentials = `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`;
  parsed.username = '';
  parsed.password = '';
  return { url: parsed.toString(), authorization: `Basic ${Buffer.from(credentials).toString('base64')}` };
}
