/**
 * Worker thread of VerifyPool (prover/verifyPool.ts): answers each chunk of requests with one byte
 * per request, 1 when verifyTx accepts it. Not meant to be imported.
 */
import { parentPort } from 'node:worker_threads';
import { decodeRequest, REQUEST_WIDTH, type ChunkRequest, type WorkerReply } from './verifyPool.js';
import { verifyTx } from './signing.js';

if (!parentPort) throw new Error('prover/verifyWorker.ts runs as a worker thread of VerifyPool only');
const port = parentPort;

port.on('message', ({ id, data }: ChunkRequest) => {
  let reply: WorkerReply;
  try {
    const results = new Uint8Array(data.length / REQUEST_WIDTH);
    for (let i = 0; i < results.length; i++) {
      const { key, tx } = decodeRequest(data, i);
      results[i] = verifyTx(key, tx) ? 1 : 0;
    }
    reply = { type: 'results', id, results };
  } catch (err) {
    // verifyTx does not throw on any input: this is a bug, reported against the chunk only.
    reply = { type: 'error', id, error: err instanceof Error ? (err.stack ?? err.message) : String(err) };
  }
  port.postMessage(reply);
});

const ready: WorkerReply = { type: 'ready' };
port.postMessage(ready);
