/**
 * The local Redis runner: a real redis-server (installed from Debian when missing) on free loopback ports.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from '../scripts/devnet/anvil.js';
import { RedisError, findRedisServer, pingRedis, startRedis, type RedisServer } from '../scripts/redis.js';

/** Installing the Debian package can take a few minutes on a cold machine. */
const INSTALL_TIMEOUT_MS = 600_000;

describe('redis-server', () => {
  const started: RedisServer[] = [];
  const clients: Redis[] = [];
  const dirs: string[] = [];

  afterAll(async () => {
    // Only the ones a failed test left open: disconnect() on a closed client leaves a 2 s timer.
    for (const c of clients) if (c.status !== 'end') c.disconnect();
    await Promise.all(started.map((s) => s.stop()));
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  async function boot(extra: { dataDir?: string; name?: string; port?: number } = {}): Promise<RedisServer> {
    const server = await startRedis({ port: extra.port ?? (await freePort()), ...extra });
    started.push(server);
    return server;
  }

  function client(url: string): Redis {
    // No reconnects, no offline queue: a dead server fails the command instead of hanging the test.
    const c = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
    c.on('error', () => undefined);
    clients.push(c);
    return c;
  }

  function tempDir(): string {
    const dir = mkdtempSync(join(tmpdir(), 'redis-test-'));
    dirs.push(dir);
    return dir;
  }

  async function listen(onConnection?: (socket: Socket) => void): Promise<[Server, number]> {
    const port = await freePort();
    const server = createServer(onConnection);
    await new Promise<void>((r) => server.listen({ port, host: '127.0.0.1' }, () => r()));
    return [server, port];
  }

  const close = (server: Server) => new Promise<void>((r) => server.close(() => r()));

  it(
    'finds redis-server, installing the Debian package when it is missing',
    async () => {
      const lines: string[] = [];
      const t = Date.now();
      const binary = await findRedisServer({ log: (l) => lines.push(l) });
      expect(existsSync(binary)).toBe(true);
      expect(binary).toMatch(/redis-server$/);
      if (lines.length) console.log(`installed redis-server in ${((Date.now() - t) / 1000).toFixed(1)} s:\n${lines.join('\n')}`);
      // Found again without installing.
      await expect(findRedisServer({ install: false })).resolves.toBe(binary);
    },
    INSTALL_TIMEOUT_MS,
  );

  it('starts on a free port, answers PING and SET/GET, and is unreachable after stop()', async () => {
    const server = await boot();
    expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
    await expect(pingRedis(server.url)).resolves.toBeUndefined();

    const c = client(server.url);
    await c.connect();
    await c.set('greeting', 'hello');
    expect(await c.get('greeting')).toBe('hello');
    expect(await c.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
    expect(await c.config('GET', 'appendonly')).toEqual(['appendonly', 'no']);
    expect(await c.config('GET', 'save')).toEqual(['save', '']);
    expect(await c.config('GET', 'protected-mode')).toEqual(['protected-mode', 'yes']);
    await c.quit();

    await Promise.all([server.stop(), server.stop()]);
    await server.stop();
    const exit = await server.exited;
    expect(exit.expected).toBe(true);
    expect(() => process.kill(server.pid, 0)).toThrow();
    await expect(pingRedis(server.url, 1_000)).rejects.toBeInstanceOf(RedisError);
  });

  it('refuses a busy port with a RedisError naming REDIS_PORT', async () => {
    const [busy, port] = await listen();
    try {
      await expect(startRedis({ port })).rejects.toBeInstanceOf(RedisError);
      await expect(startRedis({ port })).rejects.toThrow(`port ${port} is in use: is another Redis running? set REDIS_PORT`);
      await expect(startRedis({ port, name: 'queue' })).rejects.toThrow('set QUEUE_PORT');
    } finally {
      await close(busy);
    }
  });

  it('keeps its data in dataDir (append-only file) across a restart', async () => {
    const dataDir = join(tempDir(), 'redis');
    const port = await freePort();
    const first = await boot({ dataDir, port });
    const c1 = client(first.url);
    await c1.connect();
    expect(await c1.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
    await c1.set('job:1', 'queued');
    await c1.hset('job:2', { state: 'done', attempts: '2' });
    await c1.quit();
    await first.stop();
    expect(existsSync(join(dataDir, 'appendonlydir'))).toBe(true);

    const second = await boot({ dataDir, port });
    expect(second.pid).not.toBe(first.pid);
    const c2 = client(second.url);
    await c2.connect();
    expect(await c2.get('job:1')).toBe('queued');
    expect(await c2.hgetall('job:2')).toEqual({ state: 'done', attempts: '2' });
    await c2.quit();
    await second.stop();
  });

  it('reports an unexpected exit through exited', async () => {
    const server = await startRedis({ port: await freePort(), log: () => undefined });
    started.push(server);
    process.kill(server.pid, 'SIGKILL');
    expect(await server.exited).toEqual({ code: null, signal: 'SIGKILL', expected: false });
    await server.stop(); // still safe after the process is gone
  });

  describe('pingRedis', () => {
    it('fails fast with a RedisError on a closed port', async () => {
      const port = await freePort();
      const t = Date.now();
      await expect(pingRedis(`redis://127.0.0.1:${port}`)).rejects.toThrow(
        new RegExp(`^Redis at redis://127\\.0\\.0\\.1:${port} is unreachable \\(ECONNREFUSED`),
      );
      expect(Date.now() - t).toBeLessThan(1_000);
    });

    it('rejects URLs that are not redis://', async () => {
      await expect(pingRedis('http://127.0.0.1:6379')).rejects.toBeInstanceOf(RedisError);
      await expect(pingRedis('not a url')).rejects.toBeInstanceOf(RedisError);
      await expect(pingRedis('redis://127.0.0.1:6379/queue')).rejects.toThrow('database number');
    });

    it('fails on a server that does not speak Redis, and on one that never answers', async () => {
      const [http, httpPort] = await listen((socket) => {
        socket.on('error', () => undefined);
        socket.resume(); // read the request, or this socket never sees the client close
        socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
      });
      const held: Socket[] = [];
      const [silent, silentPort] = await listen((socket) => {
        socket.on('error', () => undefined);
        held.push(socket);
      });
      try {
        await expect(pingRedis(`redis://127.0.0.1:${httpPort}`)).rejects.toThrow('does not speak the Redis protocol');
        await expect(pingRedis(`redis://127.0.0.1:${silentPort}`, 300)).rejects.toThrow('ETIMEDOUT');
      } finally {
        for (const socket of held) socket.destroy();
        await Promise.all([close(http), close(silent)]);
      }
    });

    it('authenticates with the password in the URL and hides it in errors', async () => {
      const server = await boot();
      const admin = client(server.url);
      await admin.connect();
      await admin.config('SET', 'requirepass', 's3cret');
      await admin.quit();

      await expect(pingRedis(server.url)).rejects.toThrow('needs a password');
      await expect(pingRedis(`redis://:s3cret@127.0.0.1:${server.port}/2`)).resolves.toBeUndefined();
      await expect(pingRedis(`redis://default:s3cret@127.0.0.1:${server.port}`)).resolves.toBeUndefined();
      const wrong = pingRedis(`redis://:wrong@127.0.0.1:${server.port}`);
      await expect(wrong).rejects.toThrow(`Redis at redis://:***@127.0.0.1:${server.port} refused the credentials`);
      await expect(wrong).rejects.not.toThrow('wrong');
      await server.stop();
    });

    it('warns when maxmemory-policy is not noeviction', async () => {
      const server = await boot();
      const lines: string[] = [];
      await pingRedis(server.url, 2_000, (l) => lines.push(l));
      expect(lines).toEqual([]);

      const admin = client(server.url);
      await admin.connect();
      await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
      await admin.quit();
      await expect(pingRedis(server.url, 2_000, (l) => lines.push(l))).resolves.toBeUndefined();
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain('maxmemory-policy allkeys-lru; BullMQ needs noeviction');
      await server.stop();
    });
  });
});
