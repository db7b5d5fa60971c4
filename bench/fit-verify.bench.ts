// FIT verification cost per request with a warm JWKS cache, side by side with the Connect
// JWT verification of a webhook (HS256 + qsh, the tenant's secret from a cache), in one run.
// Both are the verifier functions the routes call, without HTTP around them: what a request
// pays for authentication alone. Alternating rounds, so machine load falls on both alike.
// Run: npm run bench -- fit-verify
import { performance } from 'node:perf_hooks';
import { createQueryStringHash, encodeSymmetric, fromMethodAndUrl, SymmetricAlgorithm } from 'atlassian-jwt';
import { verifyConnectJwt } from '../src/connect/jwt.ts';
import { fitVerifier } from '../src/forge/fit.ts';
import { JwksCache } from '../src/forge/jwks.ts';
import { ForgeTokenAuthority, newAppId, newInstallationId } from '../src/simulator/forge/tokens.ts';

const ROUNDS = 5;
const PER_ROUND = 4_000;

const appId = newAppId();
const forge = new ForgeTokenAuthority({ appId });
const jwk = forge.jwks();
const keys = new JwksCache({ url: 'http://127.0.0.1:1/jwks.json', fetch: async () => new Response(JSON.stringify(jwk)) });
const verifyFit = fitVerifier({ appId, keys, now: () => new Date() });
const fit = forge.signFit({ installationId: newInstallationId(), workspaceId: '4c16a397-8e48-479c-8ca2-442e46c90570', apiBaseUrl: 'https://api.bitbucket.org' });

const clientKey = 'ari:cloud:bitbucket::app/{00000000-0000-4000-8000-000000000001}/gatehouse';
const secret = 'x'.repeat(43);
const nowSeconds = Math.floor(Date.now() / 1000);
const connectToken = encodeSymmetric(
  { iss: clientKey, iat: nowSeconds, exp: nowSeconds + 180, qsh: createQueryStringHash(fromMethodAndUrl('POST', '/connect/webhook'), false, '') },
  secret,
  SymmetricAlgorithm.HS256,
);
const request = { method: 'POST', originalUrl: '/connect/webhook', basePath: '' };
const secretFor = async () => secret;

async function timeRound(verify: () => Promise<boolean>): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < PER_ROUND; i++) if (!(await verify())) throw new Error('verification failed');
  return ((performance.now() - started) * 1000) / PER_ROUND;
}

const forgeOnce = async () => (await verifyFit(fit)).ok;
const connectOnce = async () => (await verifyConnectJwt(connectToken, request, secretFor, new Date())).ok;

// Warm-up: fills the JWKS cache and lets the JIT settle.
await timeRound(forgeOnce);
await timeRound(connectOnce);

const forgeUs: number[] = [];
const connectUs: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  forgeUs.push(await timeRound(forgeOnce));
  connectUs.push(await timeRound(connectOnce));
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
console.log(`JWKS fetches during the run: ${keys.fetches}`);
console.log(`Forge FIT (RS256 2048, JWKS cached): median ${median(forgeUs).toFixed(1)} µs per request (rounds: ${forgeUs.map((v) => v.toFixed(1)).join(', ')})`);
console.log(`Connect JWT (HS256 + qsh):           median ${median(connectUs).toFixed(1)} µs per request (rounds: ${connectUs.map((v) => v.toFixed(1)).join(', ')})`);
console.log(`ratio Forge / Connect: ${(median(forgeUs) / median(connectUs)).toFixed(1)}x`);
