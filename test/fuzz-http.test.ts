import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerProblems } from './fuzz/check.ts';
import { rawRequest } from './fuzz/raw.ts';
import { caseRng, seedFrom } from './fuzz/random.ts';
import { fuzzCase, PAGE_ROUTES, ROUTES } from './fuzz/requests.ts';
import { startFuzzTarget, type FuzzResponse, type FuzzTarget } from './fuzz/target.ts';

/**
 * Seeded fuzzing of every route the app serves (see ./fuzz/requests.ts), against a real
 * listening server. `npm test` runs a few thousand cases from a fresh seed; `npm run fuzz`
 * runs many more. A failure names its seed and case: replay the run with `FUZZ_SEED=<seed>`,
 * or one case with `FUZZ_SEED=<seed> FUZZ_CASE=<n>`.
 */
const SEED = seedFrom(process.env.FUZZ_SEED);
const CASES = countFrom(process.env.FUZZ_CASES, 2_000);
const ONLY = process.env.FUZZ_CASE === undefined || process.env.FUZZ_CASE === '' ? undefined : countFrom(process.env.FUZZ_CASE, 0);
/** Share of cases written byte for byte to a socket instead of through an HTTP client. */
const RAW_SHARE = 0.04;
const HEALTH_EVERY = 250;
const MAX_REPORTED = 15;

function countFrom(value: string | undefined, fallback: number): number {
  if (value === undefined || value.trim() === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`expected a whole number, not ${value}`);
  return n;
}

let t: FuzzTarget;
beforeAll(async () => {
  t = await startFuzzTarget();
});
afterAll(async () => t?.close());

describe('HTTP fuzzing of every route', () => {
  it(
    `answers ${ONLY === undefined ? CASES : 1} hostile requests with 4xx JSON errors, never a 5xx, a crash or a leak`,
    async () => {
      const secretPaths = [process.cwd(), t.config.dataDir];
      const failures: string[] = [];
      const seen = new Map<string, number[]>();
      const indexes = ONLY === undefined ? Array.from({ length: CASES }, (_, i) => i) : [ONLY];

      for (const index of indexes) {
        const rng = caseRng(SEED, index);
        let route: string;
        let res: FuzzResponse;
        let problems: string[];
        let shown: string;
        if (rng.chance(RAW_SHARE)) {
          const raw = rawRequest(rng, t.basePath);
          route = 'raw';
          res = await t.sendRaw(raw.bytes, !raw.whole);
          shown = JSON.stringify(raw.bytes.toString('latin1').slice(0, 160));
          const closedUnanswered = !res.ok && !raw.whole;
          problems = closedUnanswered ? [] : answerProblems(res, { method: raw.bytes.toString('latin1').split(' ', 1)[0] ?? '', htmlAllowed: false, requestText: raw.bytes.toString('latin1'), secretPaths });
        } else {
          const c = fuzzCase(rng, t);
          route = c.route;
          res = await t.send(c.request);
          shown = `${c.request.method} ${c.request.path.slice(0, 160)}`;
          if (!res.ok && res.error.startsWith('client refused')) continue;
          problems = answerProblems(res, { method: c.request.method, htmlAllowed: PAGE_ROUTES.has(route), requestText: `${c.request.path}${JSON.stringify(c.request.headers)}${c.request.body?.toString('latin1') ?? ''}`, secretPaths });
          await keepTenant(route, res, c.request.body);
        }
        // An error the app logged belongs to the case that caused it.
        for (const line of t.errorLogs().splice(0)) problems.push(`app logged ${line.slice(0, 600)}`);
        const statuses = seen.get(route) ?? [];
        statuses.push(res.ok ? res.status : 0);
        seen.set(route, statuses);
        if (problems.length > 0) failures.push(`case ${index} (${route}) ${shown}: ${problems.join('; ')}`);
        if (failures.length >= MAX_REPORTED) break;
        if (index % HEALTH_EVERY === HEALTH_EVERY - 1) await expectHealthy(index);
      }
      await expectHealthy(indexes.length);

      const replay = `replay: FUZZ_SEED=${SEED} npx vitest run test/fuzz-http.test.ts (one case: add FUZZ_CASE=<index>)`;
      expect(failures, `${failures.length} failing cases, seed ${SEED}; ${replay}`).toEqual([]);
      if (ONLY === undefined && CASES >= 1_000) {
        // Every route was reached, and every authenticated one also past its authentication.
        for (const r of ROUTES) {
          const statuses = seen.get(r.name) ?? [];
          expect(statuses.length, `route ${r.name} never fuzzed; seed ${SEED}`).toBeGreaterThan(0);
          if (r.auth !== 'none') expect(statuses.some((s) => s !== 401), `route ${r.name} never got past authentication; seed ${SEED}`).toBe(true);
        }
      }
    },
    Math.max(300_000, CASES * 200),
  );
});

/** A fuzzed reinstall can change the tenant's secret and a fuzzed uninstall end it: follow, so later cases stay authenticated. */
async function keepTenant(route: string, res: FuzzResponse, body: Buffer | undefined): Promise<void> {
  if (!res.ok || res.status !== 204) return;
  if (route === 'uninstalled') {
    await t.reinstall();
  } else if (route === 'installed' && body) {
    const sent = JSON.parse(body.toString('utf8').replace(/^\uFEFF/, '')) as { clientKey?: unknown; sharedSecret?: unknown };
    if (sent.clientKey === t.tenant.clientKey) {
      t.tenant.sharedSecret = String(sent.sharedSecret);
      await t.refresh();
    }
  }
}

async function expectHealthy(after: number): Promise<void> {
  const res = await t.send({ method: 'GET', path: '/healthz', headers: {} });
  expect(res.ok && res.status, `/healthz after case ${after}; seed ${SEED}`).toBe(200);
}
