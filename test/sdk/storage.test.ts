/**
 * Record storage (sdk/storage.ts): the embedded Helia node on a real filesystem blockstore, and
 * the Kubo adapter against an in-test HTTP double of the three Kubo RPC endpoints it uses (there
 * is no Kubo daemon here; the double speaks the wire protocol: multipart block/put, query
 * parameters, Kubo's JSON error bodies).
 */
import { createHash, randomBytes } from 'node:crypto';
import * as dgram from 'node:dgram';
import { mkdtempSync, readFileSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHelia } from 'helia';
import { CID } from 'multiformats/cid';
import * as Digest from 'multiformats/hashes/digest';
import { ConfigError, loadConfig } from '../../sdk/config.js';
import {
  CHUNK_BYTES,
  DAG_JSON_CODEC,
  MAX_BLOCK_BYTES,
  MAX_PAYLOAD_BYTES,
  RAW_CODEC,
  StorageError,
  openStorage,
  type BlockStorage,
  type StorageErrorCode,
} from '../../sdk/storage.js';
import { openEmbeddedStorage, type EmbeddedStorage } from '../../sdk/storage/embedded.js';
import { openKuboStorage } from '../../sdk/storage/kubo.js';

const SHA2_256 = 0x12;
const EMPTY_RAW_CID = 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'medrollup-storage-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function bytes(n: number): Uint8Array {
  return new Uint8Array(randomBytes(n));
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

/** CIDv1 raw sha2-256 computed without the module under test. */
function expectedRawCid(data: Uint8Array): string {
  return CID.createV1(RAW_CODEC, Digest.create(SHA2_256, createHash('sha256').update(data).digest())).toString();
}

async function rejection(promise: Promise<unknown>): Promise<StorageError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof StorageError) return err;
    throw err;
  }
  throw new Error('expected a StorageError, the call succeeded');
}

async function expectCode(promise: Promise<unknown>, code: StorageErrorCode): Promise<StorageError> {
  const err = await rejection(promise);
  expect(err.code).toBe(code);
  expect(err.message.startsWith(`${code}: `)).toBe(true);
  return err;
}

/** Block files of an FsBlockstore (one `<key>.data` file per block, in shard directories). */
function blockFiles(storeDir: string): string[] {
  const root = join(storeDir, 'blocks');
  return (readdirSync(root, { recursive: true }) as string[]).filter((f) => f.endsWith('.data')).map((f) => join(root, f));
}

function flipByte(file: string, at = 0): void {
  const data = readFileSync(file);
  data[at] = (data[at] as number) ^ 0x01;
  writeFileSync(file, data);
}

// A payload whose chunks all differ (random), spanning three chunks with a short last one.
const MULTI = Math.floor(2.5 * CHUNK_BYTES);

describe('embedded storage (Helia, filesystem blockstore)', () => {
  let dir: string;
  let store: EmbeddedStorage;

  beforeAll(async () => {
    dir = tempDir();
    store = await openEmbeddedStorage(dir);
  });
  afterAll(async () => {
    await store.close();
  });

  test('round trip: empty, small, exactly one block, one byte over, multi-chunk', async () => {
    for (const size of [0, 1, 1000, MAX_BLOCK_BYTES, MAX_BLOCK_BYTES + 1, MULTI]) {
      const data = bytes(size);
      const cid = await store.put(data);
      const back = await store.get(cid);
      expect(back).toBeInstanceOf(Uint8Array);
      expect(back.byteLength).toBe(size);
      expect(sameBytes(back, data)).toBe(true);
      expect(await store.has(cid)).toBe(true);
    }
  });

  test('payloads up to one block get a CIDv1 raw sha2-256 CID of their bytes, deterministically', async () => {
    expect(await store.put(new Uint8Array(0))).toBe(EMPTY_RAW_CID);
    for (const size of [0, 32, MAX_BLOCK_BYTES]) {
      const data = bytes(size);
      const cid = await store.put(data);
      expect(cid).toBe(expectedRawCid(data));
      expect(await store.put(data.slice())).toBe(cid);
      const parsed = CID.parse(cid);
      expect([parsed.version, parsed.code, parsed.multihash.code, parsed.multihash.size]).toEqual([1, 0x55, SHA2_256, 32]);
      expect(cid.startsWith('bafkrei')).toBe(true); // base32, the canonical CIDv1 string
    }
  });

  test('a larger payload is raw 1 MiB chunks under a dag-json manifest, deterministically', async () => {
    const data = bytes(MULTI);
    const cid = await store.put(data);
    expect(await store.put(data.slice())).toBe(cid);
    const parsed = CID.parse(cid);
    expect([parsed.version, parsed.code, parsed.multihash.code, parsed.multihash.size]).toEqual([1, DAG_JSON_CODEC, SHA2_256, 32]);

    const manifestBytes = await readBlock(store, parsed);
    const manifest = JSON.parse(new TextDecoder().decode(manifestBytes)) as { chunks: { '/': string }[]; format: string; length: number };
    expect(manifest.format).toBe('medrollup/chunks/1');
    expect(manifest.length).toBe(MULTI);
    const expected = [0, 1, 2].map((i) => expectedRawCid(data.subarray(i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES)));
    expect(manifest.chunks.map((l) => l['/'])).toEqual(expected);
    // Each chunk is itself retrievable as plain raw content.
    expect(sameBytes(await store.get(expected[2] as string), data.subarray(2 * CHUNK_BYTES))).toBe(true);
  });

  test('malformed and foreign CIDs are refused with BAD_CID', async () => {
    const sha512Raw = CID.createV1(RAW_CODEC, Digest.create(0x13, new Uint8Array(64))).toString();
    const identity = CID.createV1(RAW_CODEC, Digest.create(0x00, new Uint8Array([1, 2, 3]))).toString();
    const dagPb = CID.createV1(0x70, Digest.create(SHA2_256, new Uint8Array(32))).toString();
    const bad = [
      '',
      'hello',
      `${EMPTY_RAW_CID} `,
      EMPTY_RAW_CID.slice(0, -1),
      'QmdfTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR1n', // CIDv0
      dagPb,
      sha512Raw,
      identity,
      123 as unknown as string,
    ];
    for (const cid of bad) {
      await expectCode(store.get(cid), 'BAD_CID');
      await expectCode(store.has(cid), 'BAD_CID');
    }
  });

  test('missing content is NOT_FOUND and has() is false', async () => {
    const absent = expectedRawCid(bytes(10));
    const err = await expectCode(store.get(absent), 'NOT_FOUND');
    expect(err.message).toContain(absent);
    expect(await store.has(absent)).toBe(false);
  });

  test('oversized payloads are refused before any work (TOO_LARGE)', async () => {
    await expectCode(store.put(new Uint8Array(MAX_PAYLOAD_BYTES + 1)), 'TOO_LARGE');
  });

  test('manifests are checked before chunks are fetched or memory is allocated', async () => {
    const put = async (json: string): Promise<string> => {
      const raw = new TextEncoder().encode(json);
      const cid = CID.createV1(DAG_JSON_CODEC, Digest.create(SHA2_256, createHash('sha256').update(raw).digest()));
      await store.helia.blockstore.put(cid, raw);
      return cid.toString();
    };
    const link = `{"/":"${EMPTY_RAW_CID}"}`;
    await expectCode(store.get(await put('[1,2,3]')), 'BAD_MANIFEST');
    await expectCode(store.get(await put(`{"chunks":[${link}],"format":"other","length":2000000}`)), 'BAD_MANIFEST');
    await expectCode(store.get(await put(`{"chunks":[${link}],"format":"medrollup/chunks/1","length":2000000}`)), 'BAD_MANIFEST'); // 1 link for 2 chunks
    await expectCode(store.get(await put(`{"chunks":[${link},{"/":"nope"}],"format":"medrollup/chunks/1","length":2000000}`)), 'BAD_MANIFEST');
    await expectCode(store.get(await put(`{"chunks":[],"format":"medrollup/chunks/1","length":1073741824}`)), 'TOO_LARGE');
    // Well-formed, but the chunk it links (the empty block) is not 1 MiB long.
    const wrongSize = await put(`{"chunks":[${link},${link}],"format":"medrollup/chunks/1","length":2000000}`);
    await store.put(new Uint8Array(0));
    await expectCode(store.get(wrongSize), 'BAD_MANIFEST');
  });

  test('timing: put and get of a 1 MiB payload', async () => {
    const runs = 5;
    const putMs: number[] = [];
    const getMs: number[] = [];
    for (let i = 0; i < runs; i++) {
      const data = bytes(MAX_BLOCK_BYTES);
      let t = performance.now();
      const cid = await store.put(data);
      putMs.push(performance.now() - t);
      t = performance.now();
      await store.get(cid);
      getMs.push(performance.now() - t);
    }
    const median = (xs: number[]): string => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!.toFixed(1);
    console.log(`embedded 1 MiB: put median ${median(putMs)} ms, get median ${median(getMs)} ms (${runs} runs)`);
  });
});

/** A block as stored, bypassing verification (the test's view of the disk). */
async function readBlock(store: EmbeddedStorage, cid: CID): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const p of store.helia.blockstore.get(cid, { offline: true })) parts.push(p);
  return Buffer.concat(parts);
}

describe('embedded storage: disk tampering, reopen, close', () => {
  test('a flipped byte or a truncated block file is refused on read (CID_MISMATCH)', async () => {
    const dir = tempDir();
    const store = await openEmbeddedStorage(dir);
    try {
      const data = bytes(4096);
      const cid = await store.put(data);
      const [file] = blockFiles(dir);
      expect(blockFiles(dir)).toHaveLength(1);
      flipByte(file as string, 100);
      const err = await expectCode(store.get(cid), 'CID_MISMATCH');
      expect(err.message).toContain(cid);
      expect(err.message).toContain(dir);
      truncateSync(file as string, 10);
      await expectCode(store.get(cid), 'CID_MISMATCH');
      // Putting the same content again repairs the damaged copy.
      expect(await store.put(data)).toBe(cid);
      expect(sameBytes(await store.get(cid), data)).toBe(true);
    } finally {
      await store.close();
    }
  });

  test('a tampered chunk of a multi-chunk payload is refused; a deleted one is NOT_FOUND', async () => {
    const dir = tempDir();
    const store = await openEmbeddedStorage(dir);
    try {
      const cid = await store.put(bytes(MULTI));
      const files = blockFiles(dir);
      expect(files).toHaveLength(4); // three chunks and the manifest
      const chunk = files.find((f) => readFileSync(f).byteLength === CHUNK_BYTES) as string;
      flipByte(chunk, CHUNK_BYTES - 1);
      await expectCode(store.get(cid), 'CID_MISMATCH');
      rmSync(chunk);
      await expectCode(store.get(cid), 'NOT_FOUND');
      expect(await store.has(cid)).toBe(false);
    } finally {
      await store.close();
    }
  });

  test('content survives close and reopen', async () => {
    const dir = tempDir();
    const small = bytes(777);
    const large = bytes(MULTI);
    const first = await openEmbeddedStorage(dir);
    const [a, b] = [await first.put(small), await first.put(large)];
    await first.close();
    const second = await openEmbeddedStorage(dir);
    try {
      expect(sameBytes(await second.get(a), small)).toBe(true);
      expect(sameBytes(await second.get(b), large)).toBe(true);
      expect(await second.has(b)).toBe(true);
    } finally {
      await second.close();
    }
  });

  test('close waits for operations in flight, is idempotent, and later calls fail with CLOSED', async () => {
    const dir = tempDir();
    const store = await openEmbeddedStorage(dir);
    const data = bytes(MULTI);
    const pending = store.put(data);
    const closed = store.close();
    expect(store.close()).toBe(closed);
    const cid = await pending; // the put that started before close() completes
    await closed;
    expect(store.helia.status).toBe('stopped');
    await expectCode(store.get(cid), 'CLOSED');
    await expectCode(store.put(data), 'CLOSED');
    await expectCode(store.has(cid), 'CLOSED');

    const again = await openEmbeddedStorage(dir);
    try {
      expect(sameBytes(await again.get(cid), data)).toBe(true);
    } finally {
      await again.close();
    }
  });

  test('two stores on one directory (as two processes would) see each other’s blocks', async () => {
    const dir = tempDir();
    // Opened one after the other: two first-ever opens racing on a fresh directory both write
    // Helia's datastore version file and one waits out steno's rename retries (~0.9 s).
    const one = await openEmbeddedStorage(dir);
    const two = await openEmbeddedStorage(dir);
    try {
      const [a, b] = [bytes(5000), bytes(MULTI)];
      const [ca, cb] = await Promise.all([one.put(a), two.put(b)]);
      expect(sameBytes(await two.get(ca), a)).toBe(true);
      expect(sameBytes(await one.get(cb), b)).toBe(true);
      expect(await two.put(a)).toBe(ca);
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });

  test('a directory that cannot be created is UNAVAILABLE at open, naming it', async () => {
    const file = join(tempDir(), 'not-a-directory');
    writeFileSync(file, '');
    const err = await expectCode(openEmbeddedStorage(join(file, 'ipfs')), 'UNAVAILABLE');
    expect(err.message).toContain(file);
  });

  test('identical chunks of one payload are written once, without stalling', async () => {
    const dir = tempDir();
    const store = await openEmbeddedStorage(dir);
    try {
      const zeros = new Uint8Array(3 * CHUNK_BYTES);
      const started = performance.now();
      const cid = await store.put(zeros);
      // Concurrent writers of one block file would wait out steno's rename retries (>= 0.9 s).
      expect(performance.now() - started).toBeLessThan(800);
      expect(blockFiles(dir)).toHaveLength(2); // one chunk, one manifest
      expect(sameBytes(await store.get(cid), zeros)).toBe(true);
    } finally {
      await store.close();
    }
  });
});

describe('embedded storage makes no network connections', () => {
  test('no libp2p, no block brokers or routers (unlike createHelia, even unstarted)', async () => {
    const store = await openEmbeddedStorage(tempDir());
    try {
      expect(store.helia.status).toBe('started');
      expect('libp2p' in store.helia).toBe(false);
      for (const broker of ['bitswap', 'trustless-gateway']) expect(store.helia.hasBlockBroker(broker)).toBe(false);
      expect(store.helia.hasRouter('libp2p-router')).toBe(false);
    } finally {
      await store.close();
    }
    // Control: the full createHelia() wires a public-gateway broker in before start(), which is
    // why the embedded store is built with createHeliaLight instead.
    const full = createHelia(); // in-memory stores, never started
    expect(full.hasBlockBroker('trustless-gateway')).toBe(true);
    expect('libp2p' in full).toBe(true);
  });

  test('open, put, get (present and missing), has and close open no socket', async () => {
    const attempts: string[] = [];
    const originals = {
      connect: net.Socket.prototype.connect,
      listen: net.Server.prototype.listen,
      bind: dgram.Socket.prototype.bind,
      send: dgram.Socket.prototype.send,
    };
    const record = <F extends (...args: never[]) => unknown>(name: string, original: F): F =>
      function (this: unknown, ...args: Parameters<F>) {
        attempts.push(`${name} ${JSON.stringify(args[0])}`);
        return original.apply(this, args);
      } as F;
    net.Socket.prototype.connect = record('tcp connect', originals.connect);
    net.Server.prototype.listen = record('listen', originals.listen);
    dgram.Socket.prototype.bind = record('udp bind', originals.bind);
    dgram.Socket.prototype.send = record('udp send', originals.send);
    try {
      const store = await openEmbeddedStorage(tempDir());
      const small = await store.put(bytes(100));
      const large = await store.put(bytes(MULTI));
      await store.get(small);
      await store.get(large);
      await expectCode(store.get(expectedRawCid(bytes(8))), 'NOT_FOUND');
      await store.has(large);
      await store.close();
      expect(attempts).toEqual([]);

      // Control: the spies do see a connection when one is made.
      const server = net.createServer((s) => s.end());
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const { port } = server.address() as net.AddressInfo;
      await new Promise<void>((r, j) => net.connect(port, '127.0.0.1').on('close', () => r()).on('error', j));
      await new Promise<void>((r) => server.close(() => r()));
      expect(attempts.some((a) => a.startsWith('tcp connect'))).toBe(true);
    } finally {
      Object.assign(net.Socket.prototype, { connect: originals.connect });
      Object.assign(net.Server.prototype, { listen: originals.listen });
      Object.assign(dgram.Socket.prototype, { bind: originals.bind, send: originals.send });
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Kubo RPC double

type FakeMode = 'ok' | 'tamper' | 'hang' | 'wrong-key';

interface FakeKubo {
  readonly url: string;
  readonly blocks: Map<string, Uint8Array>;
  readonly requests: { path: string; query: URLSearchParams; authorization: string | undefined }[];
  mode: FakeMode;
  close(): Promise<void>;
}

const CODECS: Record<string, number> = { raw: RAW_CODEC, 'dag-json': DAG_JSON_CODEC };

/**
 * Kubo's /api/v0/block/{put,get,stat}: POST only, `arg` query parameter, multipart upload with the
 * block in the single file part, JSON `{Key, Size}` answers and `{Message, Code, Type}` errors
 * with status 500; a block it lacks is "not found" when asked offline.
 */
async function startFakeKubo(): Promise<FakeKubo> {
  const blocks = new Map<string, Uint8Array>();
  const requests: FakeKubo['requests'] = [];
  const fail = (res: ServerResponse, message: string): void => {
    res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ Message: message, Code: 0, Type: 'error' }));
  };
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://kubo');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    requests.push({ path: url.pathname, query: url.searchParams, authorization: req.headers.authorization });
    if (req.method !== 'POST') return void res.writeHead(405).end();
    if (fake.mode === 'hang') return; // never answers
    const arg = url.searchParams.get('arg');
    switch (url.pathname) {
      case '/api/v0/block/put': {
        const codec = CODECS[url.searchParams.get('cid-codec') ?? 'raw'];
        if (codec === undefined || url.searchParams.get('mhtype') !== 'sha2-256') return fail(res, 'unsupported cid-codec or mhtype');
        const block = multipartFile(req.headers['content-type'] ?? '', body);
        if (block === undefined) return fail(res, 'file argument "data" is required');
        let key = CID.createV1(codec, Digest.create(SHA2_256, createHash('sha256').update(block).digest())).toString();
        blocks.set(key, block);
        if (fake.mode === 'wrong-key') key = EMPTY_RAW_CID;
        return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ Key: key, Size: block.byteLength }));
      }
      case '/api/v0/block/get':
      case '/api/v0/block/stat': {
        const block = arg === null ? undefined : blocks.get(arg);
        if (block === undefined) return fail(res, `block was not found locally (offline): ipld: could not find ${arg}`);
        if (url.pathname.endsWith('/stat')) return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ Key: arg, Size: block.byteLength }));
        const out = Buffer.from(block);
        if (fake.mode === 'tamper' && out.byteLength > 0) out[0] = (out[0] as number) ^ 0xff;
        if (fake.mode === 'tamper' && out.byteLength === 0) return void res.writeHead(200).end(Buffer.from([0]));
        return void res.writeHead(200, { 'content-type': 'text/plain' }).end(out);
      }
      default:
        return void res.writeHead(404).end('404 page not found');
    }
  };
  const server: Server = createServer((req, res) => void handle(req, res).catch((err: Error) => fail(res, err.message)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  const fake: FakeKubo = {
    url: `http://127.0.0.1:${port}`,
    blocks,
    requests,
    mode: 'ok',
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
  return fake;
}

/** The content of the first part of a multipart/form-data body. */
function multipartFile(contentType: string, body: Buffer): Uint8Array | undefined {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType);
  if (boundary === null) return undefined;
  const delimiter = `--${boundary[1] ?? boundary[2]}`;
  const start = body.indexOf(delimiter);
  const headersEnd = body.indexOf('\r\n\r\n', start);
  const end = body.indexOf(`\r\n${delimiter}`, headersEnd);
  if (start < 0 || headersEnd < 0 || end < 0) return undefined;
  return new Uint8Array(body.subarray(headersEnd + 4, end));
}

describe('Kubo storage (kubo-rpc-client against an RPC double)', () => {
  let kubo: FakeKubo;
  let store: BlockStorage;

  beforeAll(async () => {
    kubo = await startFakeKubo();
    store = openKuboStorage({ url: kubo.url, timeoutMs: 500 });
  });
  afterAll(async () => {
    await store.close();
    await kubo.close();
  });
  beforeEach(() => {
    kubo.mode = 'ok';
    kubo.requests.length = 0;
  });

  test('round trip: empty, small, multi-chunk; CIDs as the embedded store computes them', async () => {
    for (const size of [0, 1000, MULTI]) {
      const data = bytes(size);
      const cid = await store.put(data);
      if (size <= MAX_BLOCK_BYTES) expect(cid).toBe(expectedRawCid(data));
      else expect(CID.parse(cid).code).toBe(DAG_JSON_CODEC);
      expect(sameBytes(await store.get(cid), data)).toBe(true);
      expect(await store.has(cid)).toBe(true);
    }
    const data = bytes(MULTI);
    const embedded = await openEmbeddedStorage(tempDir());
    try {
      expect(await store.put(data)).toBe(await embedded.put(data));
    } finally {
      await embedded.close();
    }
  });

  test('block/put asks for CIDv1 raw (dag-json for a manifest), sha2-256, pinned', async () => {
    await store.put(bytes(MULTI));
    const puts = kubo.requests.filter((r) => r.path === '/api/v0/block/put');
    expect(puts.map((r) => r.query.get('cid-codec'))).toEqual(['raw', 'raw', 'raw', 'dag-json']);
    for (const r of puts) {
      expect(r.query.get('mhtype')).toBe('sha2-256');
      expect(r.query.get('pin')).toBe('true');
    }
  });

  test('has() asks block/stat offline, so a missing block is false at once', async () => {
    const absent = expectedRawCid(bytes(16));
    expect(await store.has(absent)).toBe(false);
    const stat = kubo.requests.find((r) => r.path === '/api/v0/block/stat');
    expect(stat?.query.get('offline')).toBe('true');
    expect(stat?.query.get('arg')).toBe(absent);
  });

  test('tampered bytes from the node are refused (CID_MISMATCH), also for chunks and empty blocks', async () => {
    const small = await store.put(bytes(1000));
    const large = await store.put(bytes(MULTI));
    const empty = await store.put(new Uint8Array(0));
    kubo.mode = 'tamper';
    for (const cid of [small, large, empty]) {
      const err = await expectCode(store.get(cid), 'CID_MISMATCH');
      expect(err.message).toContain(kubo.url);
    }
  });

  test('a node that stores a block under another CID is refused on put', async () => {
    kubo.mode = 'wrong-key';
    await expectCode(store.put(bytes(10)), 'CID_MISMATCH');
  });

  test('a block the node reports missing is NOT_FOUND', async () => {
    const absent = expectedRawCid(bytes(16));
    const err = await expectCode(store.get(absent), 'NOT_FOUND');
    expect(err.message).toContain(kubo.url);
  });

  test('a node that does not answer in time is UNAVAILABLE, with the URL', async () => {
    kubo.mode = 'hang';
    const started = performance.now();
    const err = await expectCode(store.get(expectedRawCid(bytes(16))), 'UNAVAILABLE');
    expect(performance.now() - started).toBeLessThan(3_000);
    expect(err.message).toContain(kubo.url);
    expect(err.message).toContain('within 500 ms');
  });

  test('a URL that is not a Kubo RPC API (404) is UNAVAILABLE, not NOT_FOUND', async () => {
    const wrong = openKuboStorage({ url: `${kubo.url}/ipfs`, timeoutMs: 1_000 });
    const err = await expectCode(wrong.get(EMPTY_RAW_CID), 'UNAVAILABLE');
    expect(err.message).toContain('HTTP 404');
    expect(err.message).toContain('Kubo RPC API');
    await wrong.close();
  });

  test('bad CIDs never reach the node', async () => {
    await expectCode(store.get('QmdfTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR1n'), 'BAD_CID');
    expect(kubo.requests).toEqual([]);
  });
});

describe('Kubo storage: node down', () => {
  test('UNAVAILABLE with the URL and the reason', async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as net.AddressInfo;
    await new Promise<void>((r) => server.close(() => r()));
    const url = `http://127.0.0.1:${port}`;
    const store = openKuboStorage({ url, timeoutMs: 2_000 });
    for (const op of [store.put(bytes(10)), store.get(EMPTY_RAW_CID), store.has(EMPTY_RAW_CID)]) {
      const err = await expectCode(op, 'UNAVAILABLE');
      expect(err.message).toContain(`cannot reach Kubo at ${url}`);
      expect(err.message).toContain('ECONNREFUSED');
    }
    await store.close();
  });

});

describe('Kubo storage: credentials', () => {
  test('user:pass in the URL is sent as Basic authorization and kept out of messages', async () => {
    const kubo = await startFakeKubo();
    const url = kubo.url.replace('http://', 'http://medrollup:s%40cret@');
    const store = openKuboStorage({ url, timeoutMs: 1_000 });
    try {
      const cid = await store.put(bytes(10));
      expect(kubo.requests[0]?.authorization).toBe(`Basic ${Buffer.from('medrollup:s@cret').toString('base64')}`);
      kubo.mode = 'tamper';
      const err = await expectCode(store.get(cid), 'CID_MISMATCH');
      for (const text of [err.message, store.location]) {
        expect(text).toContain('127.0.0.1');
        expect(text).not.toContain('cret');
      }
    } finally {
      await store.close();
      await kubo.close();
    }
  });
});

describe('openStorage and configuration', () => {
  test('IPFS_API_URL unset: embedded store in IPFS_DIR, by default $DATA_DIR/ipfs', async () => {
    const dataDir = tempDir();
    const config = loadConfig({ DATA_DIR: dataDir });
    expect(config.ipfs).toEqual({ apiUrl: undefined, dir: join(dataDir, 'ipfs') });
    expect(loadConfig({ DATA_DIR: dataDir, IPFS_DIR: join(dataDir, 'elsewhere') }).ipfs.dir).toBe(join(dataDir, 'elsewhere'));
    const store = await openStorage(config);
    try {
      expect(store.location).toBe(`embedded Helia at ${join(dataDir, 'ipfs')}`);
      const cid = await store.put(bytes(10));
      expect(await store.has(cid)).toBe(true);
      expect(blockFiles(join(dataDir, 'ipfs'))).toHaveLength(1);
    } finally {
      await store.close();
    }
  });

  test('IPFS_API_URL set: Kubo through the RPC client', async () => {
    const kubo = await startFakeKubo();
    const store = await openStorage(loadConfig({ IPFS_API_URL: kubo.url }), { kuboTimeoutMs: 1_000 });
    try {
      expect(store.location).toBe(`Kubo at ${kubo.url}`);
      const data = bytes(10);
      expect(sameBytes(await store.get(await store.put(data)), data)).toBe(true);
      expect(kubo.blocks.size).toBe(1);
    } finally {
      await store.close();
      await kubo.close();
    }
  });

  test('IPFS_API_URL must be an http(s) URL', () => {
    for (const bad of ['127.0.0.1:5001', '/ip4/127.0.0.1/tcp/5001', 'ftp://host', 'http://']) {
      expect(() => loadConfig({ IPFS_API_URL: bad })).toThrow(ConfigError);
    }
    expect(loadConfig({ IPFS_API_URL: 'https://ipfs.example:5001' }).ipfs.apiUrl).toBe('https://ipfs.example:5001');
  });
});
