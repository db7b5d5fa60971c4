// Open-loop load at a fixed rate, for latency figures "at N requests/s".
//
// Request i is due at start + i / rate and is sent then, whatever became of the ones before
// it; its latency counts from when it was due, not from when it went out. A server that
// stalls therefore shows the stall in every request queued behind it, as a real sender
// would see it (no coordinated omission).
//
// autocannon (used for the maximum-rate figures) is not used here: in its rate mode each
// connection sends its per-second quota back to back at the start of each second and then
// waits (lib/httpClient.js), so "500 requests/s" is a burst at full speed every second;
// and it corrects for coordinated omission with an expected interval of
// Math.ceil(1 / rate) ms (1 ms), which adds synthetic samples to every slow answer. Against
// a bare node:http server that answers in about 60 µs, its p99 "at 500 requests/s" was 13 ms.
import { Agent, request } from 'node:http';
import { percentile } from './percentile.ts';

export interface PacedLoadOptions {
  port: number;
  path: string;
  /** Requests per second. */
  rate: number;
  seconds: number;
  body: Buffer;
  /** Called per request, so each can carry its own delivery id. */
  headers: () => Record<string, string>;
}

export interface PacedLoadResult {
  sent: number;
  /** Completed requests per second over the run. */
  achievedRate: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  failures: number;
  firstFailure: string;
}

export async function pacedLoad(options: PacedLoadOptions): Promise<PacedLoadResult> {
  // Enough sockets that a slow answer never makes a due request wait for a free one.
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const total = Math.round(options.rate * options.seconds);
  const interval = 1000 / options.rate;
  const latencies: number[] = [];
  let failures = 0;
  let firstFailure = '';
  let settled = 0;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const done = () => {
    settled += 1;
    if (settled === total) finish();
  };

  const send = (due: number) => {
    const req = request(
      {
        agent,
        host: '127.0.0.1',
        port: options.port,
        method: 'POST',
        path: options.path,
        headers: { ...options.headers(), 'content-length': String(options.body.length) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) latencies.push(performance.now() - due);
          else {
            failures += 1;
            firstFailure ||= `${status} ${Buffer.concat(chunks).toString('utf8')}`;
          }
          done();
        });
      },
    );
    req.on('error', (err) => {
      failures += 1;
      firstFailure ||= err.message;
      done();
    });
    req.end(options.body);
  };

  const start = performance.now();
  let next = 0;
  // A timer rather than a busy loop: on a small machine a spinning generator would take
  // the CPU the server needs. Timers fire up to ~1 ms late; that lateness is counted in
  // the latency (it is measured from the due time), so it can only make figures worse.
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (next < total && start + next * interval <= now) send(start + next++ * interval);
      if (next < total) setTimeout(tick, Math.max(0, start + next * interval - performance.now()));
      else resolve();
    };
    tick();
  });
  await finished;
  const elapsed = (performance.now() - start) / 1000;
  agent.destroy();

  latencies.sort((a, b) => a - b);
  return {
    sent: total,
    achievedRate: latencies.length / elapsed,
    p50: percentile(latencies, 50),
    p90: percentile(latencies, 90),
    p99: percentile(latencies, 99),
    max: latencies.at(-1) ?? NaN,
    failures,
    firstFailure,
  };
}
