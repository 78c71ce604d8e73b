// Worker thread of bench/admission.bench.ts: a closed-loop load generator
// (fixed concurrency over keep-alive HTTPS connections) that returns every
// request's latency. It runs in its own thread so the client's work does not
// share the server's event loop.
import { Agent, request } from 'node:https';
import { parentPort, workerData } from 'node:worker_threads';

interface Job {
  port: number;
  ca: string;
  path: string;
  bodies: string[];
  concurrency: number;
}

const job = workerData as Job;
const agent = new Agent({ keepAlive: true, maxSockets: job.concurrency, ca: job.ca });

function once(body: string): Promise<{ ms: number; allowed: boolean }> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: job.port,
        method: 'POST',
        path: job.path,
        servername: 'localhost',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          text += d;
        });
        res.on('end', () => {
          resolve({ ms: performance.now() - start, allowed: text.includes('"allowed":true') });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const latencies: number[] = [];
let denied = 0;
let next = 0;
const started = performance.now();
await Promise.all(
  Array.from({ length: job.concurrency }, async () => {
    while (next < job.bodies.length) {
      const body = job.bodies[next++] as string;
      const r = await once(body);
      latencies.push(r.ms);
      if (!r.allowed) denied++;
    }
  }),
);
const wallMs = performance.now() - started;
agent.destroy();
parentPort?.postMessage({ latencies, denied, wallMs });
