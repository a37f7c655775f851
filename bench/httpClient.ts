/**
 * The load generator of `npm run bench -- sequencer`, in its own process so that its JSON and
 * socket work does not share the sequencer's event loop: POSTs the request bodies in argv[3] (a
 * JSON array of strings) to argv[2] with argv[4] requests in flight, prints one JSON line
 * { ok, failed, codes, elapsedMs, latenciesMs }.
 */
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';

const [url, bodiesFile, concurrencyArg] = process.argv.slice(2);
if (!url || !bodiesFile) {
  console.error('usage: httpClient <url> <bodies.json> [concurrency]');
  process.exit(2);
}
const bodies = JSON.parse(readFileSync(bodiesFile, 'utf8')) as string[];
const concurrency = Number(concurrencyArg ?? 32);
const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
const target = new URL(url);

function post(body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      { agent, hostname: target.hostname, port: target.port, path: target.pathname, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const latencies: number[] = [];
const codes: Record<string, number> = {};
let next = 0;
let ok = 0;
const started = performance.now();
// Requests go out in order per lane; each lane waits for its answer (closed-loop load).
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    for (;;) {
      const i = next++;
      if (i >= bodies.length) return;
      const t = performance.now();
      const status = await post(bodies[i]!);
      latencies.push(performance.now() - t);
      codes[status] = (codes[status] ?? 0) + 1;
      if (status === 200) ok++;
    }
  }),
);
const elapsedMs = performance.now() - started;
agent.destroy();
console.log(JSON.stringify({ ok, failed: bodies.length - ok, codes, elapsedMs, latenciesMs: latencies }));
