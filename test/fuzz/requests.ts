import { createHmac } from 'node:crypto';
import { encodeSymmetric } from 'atlassian-jwt';
import { incomingQsh } from '../../src/connect/qsh.ts';
import { mintSessionToken, SESSION_FIELD, SESSION_HEADER, SESSION_TTL_SECONDS } from '../../src/ui/session-token.ts';
import { installBody } from '../helpers/connect-tenant.ts';
import { garbageString, garbageValue, jsonBody, randomText, withBadUtf8 } from './inputs.ts';
import type { Rng } from './random.ts';
import { COMMIT, FINGERPRINT, PR_ID, REPO_FULL_NAME, REPO_UUID, USER, type FuzzRequest, type FuzzTarget } from './target.ts';

/**
 * One fuzz case per call: a route the app serves (every one of them, by weight), then its
 * method, path, query, credentials, headers and body, each valid or hostile. Credentials are
 * often valid (signed with the installed tenant's secret over the exact request, or a page
 * session minted with the app's key) so that the hostile parts reach the handlers.
 */

type Auth = 'connect-header' | 'connect-query' | 'install' | 'session' | 'sbom' | 'none';
type BodyKind = 'json' | 'form' | 'none';

interface Route {
  name: string;
  method: string;
  path: string;
  auth: Auth;
  body: BodyKind;
  /** A valid query (before fuzzing). */
  query?: (t: FuzzTarget) => Record<string, string>;
  /** A valid body (before fuzzing). */
  valid?: (t: FuzzTarget, rng: Rng) => unknown;
  /** Weight among routes. */
  weight: number;
}

const PR_QUERY = { repoUuid: REPO_UUID, repoFullName: REPO_FULL_NAME, prId: String(PR_ID), commit: COMMIT.slice(0, 12), sourceBranch: 'feature', destinationBranch: 'main' };
const PR_FORM = { prId: String(PR_ID), commit: COMMIT.slice(0, 12), sourceBranch: 'feature', destinationBranch: 'main' };

/** Every route of src/app.ts, src/connect/*, src/ui/routes.ts and src/connect/api-routes.ts. */
export const ROUTES: readonly Route[] = [
  { name: 'healthz', method: 'GET', path: '/healthz', auth: 'none', body: 'none', weight: 1 },
  { name: 'descriptor', method: 'GET', path: '/atlassian-connect.json', auth: 'none', body: 'none', weight: 1 },
  { name: 'webhook', method: 'POST', path: '/connect/webhook', auth: 'connect-header', body: 'json', weight: 14 },
  { name: 'installed', method: 'POST', path: '/connect/lifecycle/installed', auth: 'install', body: 'json', valid: (t, rng) => installBody(rng.chance(0.5) ? t.tenant : { clientKey: `fuzz-${rng.int(0, 1e9)}`, sharedSecret: rng.bytes(24).toString('base64url') }), weight: 8 },
  { name: 'uninstalled', method: 'POST', path: '/connect/lifecycle/uninstalled', auth: 'connect-header', body: 'json', valid: (t) => ({ clientKey: t.tenant.clientKey, eventType: 'uninstalled', key: 'gatehouse' }), weight: 3 },
  { name: 'pr-panel', method: 'GET', path: '/connect/panels/pull-request', auth: 'connect-query', body: 'none', query: () => PR_QUERY, weight: 7 },
  { name: 'repo-panel', method: 'GET', path: '/connect/panels/repository', auth: 'connect-query', body: 'none', query: () => ({ repoUuid: REPO_UUID, repoFullName: REPO_FULL_NAME }), weight: 5 },
  { name: 'settings-page', method: 'GET', path: '/connect/settings', auth: 'connect-query', body: 'none', query: () => ({ 'xdm_e': 'x' }), weight: 4 },
  { name: 'pr-region', method: 'GET', path: '/ui/panels/pull-request', auth: 'session', body: 'none', query: () => PR_FORM, weight: 5 },
  { name: 'ui-triage', method: 'POST', path: '/ui/triage', auth: 'session', body: 'form', valid: () => ({ ...PR_FORM, fingerprint: FINGERPRINT, status: 'false_positive', reason: 'a test key' }), weight: 6 },
  { name: 'ui-untriage', method: 'POST', path: '/ui/triage/clear', auth: 'session', body: 'form', valid: () => ({ ...PR_FORM, fingerprint: FINGERPRINT }), weight: 4 },
  { name: 'ui-settings', method: 'POST', path: '/ui/settings', auth: 'session', body: 'form', valid: () => ({ threshold: 'high', secrets: 'on', dependencies: 'on', ignoredPaths: 'vendor/**\ndocs/*.md', environments: 'main: production\nrelease/*: staging' }), weight: 5 },
  { name: 'ui-sbom', method: 'GET', path: '/ui/sbom', auth: 'sbom', body: 'none', weight: 3 },
  { name: 'ui-static', method: 'GET', path: '/ui/static/panel.css', auth: 'none', body: 'none', weight: 2 },
  { name: 'api-policy-get', method: 'GET', path: '/api/policy', auth: 'connect-header', body: 'none', weight: 3 },
  { name: 'api-policy-put', method: 'PUT', path: '/api/policy', auth: 'connect-header', body: 'json', valid: () => ({ threshold: 'critical', scanners: { secrets: true, dependencies: false }, ignoredPaths: ['vendor/**'], environments: [{ branch: 'main', environment: 'production' }] }), weight: 6 },
  { name: 'api-triage-get', method: 'GET', path: '/api/triage', auth: 'connect-header', body: 'none', query: () => ({ repoUuid: REPO_UUID }), weight: 3 },
  { name: 'api-triage-put', method: 'PUT', path: '/api/triage', auth: 'connect-header', body: 'json', valid: () => ({ repoUuid: REPO_UUID, fingerprint: FINGERPRINT, status: 'ignored', reason: 'rotated' }), weight: 6 },
  { name: 'api-triage-delete', method: 'DELETE', path: '/api/triage', auth: 'connect-header', body: 'none', query: () => ({ repoUuid: REPO_UUID, fingerprint: FINGERPRINT }), weight: 3 },
  { name: 'unknown', method: 'GET', path: '/nope', auth: 'none', body: 'none', weight: 2 },
];

/** The iframe pages: an error may come back as HTML rendered inside the frame. */
export const PAGE_ROUTES = new Set(['pr-panel', 'repo-panel', 'settings-page', 'pr-region', 'ui-triage', 'ui-untriage', 'ui-settings']);

export interface FuzzCase {
  route: string;
  request: FuzzRequest;
}

const ODD_METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'TRACE', 'PROPFIND', 'MKCOL', 'PURGE', 'QUERY', 'SEARCH', 'M-SEARCH', 'BREW', 'X'];

export function fuzzCase(rng: Rng, t: FuzzTarget): FuzzCase {
  const route = rng.weighted(ROUTES.map((r) => [r.weight, r] as const));
  const method = rng.chance(0.9) ? route.method : rng.pick(ODD_METHODS);
  const path = fuzzPath(rng, t, route);
  const query = fuzzQuery(rng, route.query?.(t) ?? {});
  const headers: Record<string, string | string[]> = {};
  let body: Buffer | undefined;
  let form: Record<string, string> | undefined;

  // A real delivery, bare or in Connect's envelope, usually under its own event key.
  const delivery = route.name === 'webhook' ? rng.pick(t.webhooks) : undefined;
  if (delivery) {
    body = jsonBody(rng, rng.chance(0.5) ? { event: delivery.eventKey, data: delivery.payload } : delivery.payload);
    headers['content-type'] = contentType(rng, 'application/json');
  } else if (route.body === 'json') {
    body = jsonBody(rng, route.valid?.(t, rng) ?? {});
    headers['content-type'] = contentType(rng, 'application/json');
  } else if (route.body === 'form') {
    form = { ...(route.valid?.(t, rng) as Record<string, string>) };
    headers['content-type'] = contentType(rng, 'application/x-www-form-urlencoded');
  } else if (rng.chance(0.1)) {
    body = rng.chance(0.5) ? Buffer.from(JSON.stringify(garbageValue(rng)) ?? '') : rng.bytes(rng.int(1, 256));
    headers['content-type'] = contentType(rng, 'application/octet-stream');
  }

  // Credentials last but one: a token signs the final URL, and a form carries its token in the body.
  let url = query === '' ? path : `${path}?${query}`;
  switch (route.auth) {
    case 'connect-header':
    case 'install': {
      if (route.auth === 'install' && rng.chance(0.6)) break;
      const header = authorization(rng, connectToken(rng, t, method, url));
      if (header !== undefined) headers.authorization = header;
      break;
    }
    case 'connect-query': {
      const token = connectToken(rng, t, method, url);
      if (rng.chance(0.85)) {
        if (token !== undefined) url += `${url.includes('?') ? '&' : '?'}jwt=${rng.chance(0.9) ? pct(token) : token}`;
      } else {
        const header = authorization(rng, token);
        if (header !== undefined) headers.authorization = header;
      }
      break;
    }
    case 'session': {
      const token = sessionToken(rng, t, 'page');
      if (token === undefined) break;
      if (form && rng.chance(0.5)) form[SESSION_FIELD] = token;
      else headers[SESSION_HEADER] = token;
      break;
    }
    case 'sbom': {
      const token = sessionToken(rng, t, 'sbom');
      if (token !== undefined) url += `${url.includes('?') ? '&' : '?'}token=${pct(token)}`;
      break;
    }
    case 'none':
      break;
  }
  if (form) body = formBody(rng, form);
  // Over every route's limit (the webhook's 1 MB is the largest): the refusal must still reach a sender that writes it all first.
  if (body !== undefined && rng.chance(0.01)) body = Buffer.concat([body, Buffer.alloc(rng.pick([70_000, 1_100_000, 3_000_000]), 0x20)]);

  hostileHeaders(rng, headers, route, delivery?.eventKey);
  // Framed either way: Node's client sends a GET body unframed, which the server rightly reads as the next request.
  if (body !== undefined) {
    if (rng.chance(0.9)) headers['content-length'] = String(body.length);
    else headers['transfer-encoding'] = 'chunked';
  }
  return { route: route.name, request: { method, path: url, headers, ...(body === undefined ? {} : { body }) } };
}

function fuzzPath(rng: Rng, t: FuzzTarget, route: Route): string {
  let path = route.path;
  if (route.name === 'unknown') path = '/' + rng.pick(['', 'connect', 'api', 'ui', 'ui/static', 'gh', 'connect/panels']) + '/' + pct(garbageString(rng).slice(0, 200));
  if (route.name === 'ui-static' && rng.chance(0.5)) path = `/ui/static/${rng.pick(['tokens.css', 'panel.js', 'css-reset.css', '..%2f..%2fpackage.json', '%2e%2e', 'panel.css%00', '__proto__', 'constructor', '%E0%A4%A', '%', '%zz', '..', pct(garbageString(rng).slice(0, 100))])}`;
  const prefixed = rng.chance(0.5) ? t.basePath + path : path;
  return rng.weighted<() => string>([
    [20, () => prefixed],
    [1, () => prefixed + '/'],
    [1, () => prefixed.replace(/\//g, '//')],
    [1, () => prefixed.toUpperCase()],
    [1, () => prefixed.replace(/[a-z]/, (c) => `%${c.charCodeAt(0).toString(16)}`)],
    [1, () => `/x/..${prefixed}`],
    [1, () => prefixed + rng.pick([';a=b', '%', '%E0%A4%A', '%ff', '%00', '%2f', '\u00ff', '#frag'])],
  ])();
}

/** `key=value&...` from a valid query: values changed, keys repeated or invented, thousands of parameters, broken encodings. */
export function fuzzQuery(rng: Rng, valid: Record<string, string>): string {
  const pairs = Object.entries(valid).map(([k, v]) => [pct(k), pct(v)]);
  const edits = rng.weighted([
    [3, 0],
    [4, 1],
    [2, 3],
  ]);
  for (let i = 0; i < edits; i++) {
    const at = rng.int(0, Math.max(0, pairs.length - 1));
    rng.weighted<() => void>([
      [10, () => pairs[at] && (pairs[at][1] = pct(garbageString(rng).slice(0, 4000)))],
      [4, () => pairs.splice(at, 1)],
      [4, () => pairs[at] && pairs.push([pairs[at][0]!, pct(garbageString(rng).slice(0, 200))])],
      [2, () => pairs.push([rng.pick(['a[b]', 'a[]', '__proto__', 'constructor[prototype][x]', '', 'jwt', 'token', 'prId', '%', '%ZZ']), rng.pick(['1', '', '%', '%E0%A4%A', '%ff%fe'])])],
      [2, () => pairs[at] && (pairs[at][1] = rng.pick(['%', '%E0%A4%A', '%ff', '%C0%80', '%ED%A0%80', '\u00ff\u00fe', '1e400', '-1', '0x10', '99999999999999999999', '2147483648']))],
      [1, () => pairs.push(...Array.from({ length: rng.pick([1_000, 2_000, 3_000]) }, (_, n) => [`p${n}`, String(n)]))],
      [1, () => pairs.push(...Array.from({ length: rng.pick([500, 1_500]) }, () => [pairs[at]?.[0] ?? 'k', 'x']))],
    ])();
  }
  let query = pairs.map(([k, v]) => `${k}=${v}`).join('&');
  if (rng.chance(0.05)) query = rng.pick(['&&&', '=', '?', '&=&=', query + '&', '&' + query]);
  return query;
}

/** A urlencoded form from valid fields, fuzzed the same way as a query, sometimes with bytes that are not UTF-8. */
function formBody(rng: Rng, valid: Record<string, string>): Buffer {
  const text = Buffer.from(fuzzQuery(rng, valid), 'latin1');
  return rng.weighted<() => Buffer>([
    [8, () => text],
    [1, () => withBadUtf8(rng, text)],
    [1, () => jsonBody(rng, valid)],
  ])();
}

function contentType(rng: Rng, right: string): string {
  return rng.weighted([
    [12, right],
    [1, `${right}; charset=utf-8`],
    [1, `${right}; charset=utf-16`],
    [1, `${right}; charset=latin1`],
    [1, `${right}; charset="`],
    [1, 'text/plain'],
    [1, 'application/json'],
    [1, 'application/x-www-form-urlencoded'],
    [1, 'multipart/form-data; boundary=----x'],
    [1, 'application/xml'],
    [1, ';;;'],
    [1, '\u00ff/\u00fe'],
    [1, ''],
    [1, '*/*'],
  ]);
}

/** A Connect JWT for this request: valid, validly signed over garbage claims, badly signed, or not a JWT at all. */
function connectToken(rng: Rng, t: FuzzTarget, method: string, url: string): string | undefined {
  const iat = Math.floor(t.now.getTime() / 1000);
  const claims = (): Record<string, unknown> => ({ iss: t.tenant.clientKey, iat, exp: iat + 180, qsh: incomingQsh(method, url, t.basePath), sub: USER });
  return rng.weighted<() => string | undefined>([
    [8, () => encodeSymmetric(claims(), t.tenant.sharedSecret)],
    [6, () => encodeSymmetric(garbageClaims(rng, claims(), t.tenant.clientKey), t.tenant.sharedSecret)],
    [2, () => encodeSymmetric(claims(), rng.bytes(24).toString('base64url'))],
    [4, () => garbageJwt(rng, claims())],
    [1, () => undefined],
  ])();
}

function garbageClaims(rng: Rng, claims: Record<string, unknown>, clientKey: string): Record<string, unknown> {
  const out = { ...claims };
  for (let i = rng.int(1, 3); i > 0; i--) {
    const name = rng.pick(['qsh', 'iss', 'aud', 'sub', 'exp', 'iat', 'nbf', 'context', 'jti']);
    if (rng.chance(0.2)) delete out[name];
    else out[name] = garbageValue(rng);
  }
  // A garbage iss still names the tenant through aud, so verification goes on to the claims.
  if (typeof out.iss !== 'string' && rng.chance(0.7)) out.aud = [clientKey, ...(rng.chance(0.3) ? [garbageValue(rng)] : [])];
  return out;
}

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value) ?? '').toString('base64url');

function garbageJwt(rng: Rng, claims: Record<string, unknown>): string {
  const good = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`;
  return rng.weighted<() => string>([
    [2, () => `${good}.${rng.bytes(32).toString('base64url')}`],
    [1, () => `${b64({ alg: 'none' })}.${b64(claims)}.`],
    [1, () => `${b64({ alg: rng.pick(['RS256', 'hs256', 'HS512', 'ES256', '', null, 1]) })}.${b64(claims)}.${rng.bytes(32).toString('base64url')}`],
    [1, () => `${b64(garbageValue(rng))}.${b64(garbageValue(rng))}.${b64(garbageValue(rng))}`],
    [1, () => `${b64({ alg: 'HS256' })}.${Buffer.from([0xff, 0xfe, 0x7b, 0xc0, 0x80]).toString('base64url')}.abc`],
    [1, () => `${good}.x.y`],
    [1, () => `${good.replace(/-/g, '+').replace(/_/g, '/')}==.sig=`],
    [1, () => rng.pick(['', '.', '..', '...', 'a.b.c', 'a..c', '.b.', 'null', 'JWT'])],
    [1, () => `${'A'.repeat(rng.pick([1_000, 8_000]))}.${'B'.repeat(100)}.${'C'.repeat(43)}`],
    [1, () => garbageString(rng).slice(0, 2_000)],
    [1, () => randomText(rng, rng.int(1, 80))],
  ])();
}

function authorization(rng: Rng, token: string | undefined): string | undefined {
  if (token === undefined) return rng.chance(0.5) ? undefined : rng.pick(['JWT', 'JWT ', 'Bearer', 'Basic Zm9vOmJhcg==', '']);
  return rng.weighted([
    [12, `JWT ${token}`],
    [1, `jwt ${token}`],
    [1, `Bearer ${token}`],
    [1, `JWT  ${token}  `],
    [1, `JWT ${token} extra`],
    [1, `JWT\t${token}`],
  ]);
}

/** A page session (or SBOM link) token: minted by the app's key over valid or garbage claims, expired, for another purpose, or garbage. */
function sessionToken(rng: Rng, t: FuzzTarget, purpose: 'page' | 'sbom'): string | undefined {
  const session = { clientKey: t.tenant.clientKey, user: USER, repoUuid: REPO_UUID, repoFullName: REPO_FULL_NAME, instance: t.instance };
  const other = purpose === 'page' ? 'sbom' : 'page';
  return rng.weighted<() => string | undefined>([
    [8, () => mintSessionToken(t.sessionKey, session, t.now, purpose).token],
    [6, () => garbageSessionClaims(rng, t, session, purpose)],
    [1, () => mintSessionToken(t.sessionKey, session, new Date(t.now.getTime() - 2 * SESSION_TTL_SECONDS * 1000), purpose).token],
    [1, () => mintSessionToken(t.sessionKey, session, t.now, other).token],
    [1, () => mintSessionToken(rng.bytes(32), session, t.now, purpose).token],
    [2, () => garbageJwt(rng, { ck: session.clientKey })],
    [1, () => undefined],
  ])();
}

function garbageSessionClaims(rng: Rng, t: FuzzTarget, session: { clientKey: string; repoUuid: string; repoFullName: string; user: string; instance: string }, purpose: 'page' | 'sbom'): string {
  const iat = Math.floor(t.now.getTime() / 1000);
  const claims: Record<string, unknown> = { iss: 'gatehouse', aud: purpose === 'page' ? 'gatehouse-page' : 'gatehouse-sbom-link', sub: session.user, ck: session.clientKey, repo: session.repoUuid, rfn: session.repoFullName, ins: session.instance, sat: iat, iat, exp: iat + 60 };
  for (let i = rng.int(1, 3); i > 0; i--) {
    const name = rng.pick(['sub', 'ck', 'repo', 'rfn', 'ins', 'sat', 'iat', 'exp', 'nbf']);
    if (rng.chance(0.2)) delete claims[name];
    else claims[name] = garbageValue(rng);
  }
  // jsonwebtoken validates exp/iat/nbf types when signing; encode by hand so any value gets through.
  const head = b64({ alg: 'HS256', typ: 'JWT' });
  const body = b64(claims);
  return `${head}.${body}.${createHmac('sha256', t.sessionKey).update(`${head}.${body}`).digest('base64url')}`;
}

/** Headers around the request: event keys, ids, origins, encodings, huge and many headers. */
function hostileHeaders(rng: Rng, headers: Record<string, string | string[]>, route: Route, eventKey: string | undefined): void {
  if (eventKey !== undefined) {
    if (rng.chance(0.9)) headers['x-event-key'] = rng.weighted([[12, eventKey], [2, rng.pick(['repo:push', 'pullrequest:updated', 'repo:updated', 'pullrequest:approved', 'issue:created', ''])], [1, headerSafe(garbageString(rng))]]);
    if (rng.chance(0.85)) headers['x-request-uuid'] = rng.chance(0.8) ? rng.bytes(16).toString('hex') : headerSafe(garbageString(rng));
  }
  if (rng.chance(0.05)) headers['content-encoding'] = rng.pick(['gzip', 'deflate', 'br', 'identity', 'x-unknown', 'gzip, gzip', '']);
  if (rng.chance(0.04)) headers.origin = rng.pick(['https://evil.example', 'null', 'https://gatehouse.example', '']);
  if (rng.chance(0.04)) headers['sec-fetch-site'] = rng.pick(['cross-site', 'same-site', 'same-origin', 'none', 'x']);
  if (rng.chance(0.03)) headers.accept = rng.pick(['text/html', 'application/json', '*/*', '\u00ff', ';q=']);
  if (rng.chance(0.02)) headers['x-filler'] = 'a'.repeat(rng.pick([8_000, 20_000, 70_000]));
  if (rng.chance(0.02)) for (let i = 0; i < rng.pick([100, 1_000, 3_000]); i++) headers[`x-h${i}`] = 'v';
  if (rng.chance(0.02)) headers['x-latin1'] = Buffer.from([0xc3, 0x28, 0xff, 0xfe]).toString('latin1');
  if (rng.chance(0.02)) headers.host = rng.pick(['evil.example', '', 'a'.repeat(300), '[::1]:99999']);
  if (rng.chance(0.02)) headers.cookie = 'a=' + 'b'.repeat(2_000);
  // The same header twice: Node keeps the first of some (authorization, content-type) and joins others.
  // (Framing headers twice are raw cases: Node's client would frame the body by its own reading of them.)
  if (rng.chance(0.03)) {
    const name = rng.pick(['authorization', 'content-type', 'x-event-key', 'x-request-uuid', SESSION_HEADER, 'origin']);
    const first = headers[name];
    headers[name] = [typeof first === 'string' ? first : 'x', rng.pick(['JWT a.b.c', 'application/json', 'repo:push', '1', ''])];
  }
}

/** What Node's client lets through as a header value (the raw-socket cases send the rest). */
function headerSafe(value: string): string {
  return value.slice(0, 300).replace(/[^\t\x20-\x7e\x80-\xff]/g, '');
}

/** encodeURIComponent for any string: lone surrogates (which it refuses) become U+FFFD first. */
function pct(value: string): string {
  return encodeURIComponent(value.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd'));
}
