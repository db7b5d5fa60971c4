import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TOKEN_REFRESH_MARGIN_MS } from '../src/bitbucket/auth/oauth2.ts';
import { createBitbucketClient, type ConnectClientOptions } from '../src/bitbucket/client.ts';
import { BitbucketApiError, BitbucketProtocolError } from '../src/bitbucket/errors.ts';
import { FakeBitbucket, type FakeCredentials, type Reply } from './helpers/fake-bitbucket.ts';

const credentials: FakeCredentials = { appKey: 'gatehouse-test', clientKey: 'client-key-1', sharedSecret: 'shared-secret-for-tests-only' };
const T0 = Date.UTC(2026, 10, 22, 4, 0, 0);
const TOKEN_PATH = '/site/oauth2/access_token';
const REPO = '/2.0/repositories/acme/widgets';
const LIFETIME_S = 3600;

let clock: number;
const now = () => clock;
let site: FakeBitbucket;
let api: FakeBitbucket;
let issued: number;

/** Bitbucket's token endpoint: mints a token the fake API then accepts. */
function issueToken(): Reply {
  issued += 1;
  const token = `access-token-${issued}`;
  api.validBearerTokens.add(token);
  return { status: 200, json: { access_token: token, expires_in: LIFETIME_S, token_type: 'bearer', scopes: 'repository pullrequest' } };
}

beforeEach(async () => {
  clock = T0;
  issued = 0;
  site = await FakeBitbucket.start(credentials, now);
  api = await FakeBitbucket.start(credentials, now);
  api.route('GET', REPO, { status: 200, json: { type: 'repository', name: 'widgets' } });
});

afterEach(async () => {
  expect(site.authFailures).toEqual([]);
  await site.close();
  await api.close();
});

function client(overrides: Partial<ConnectClientOptions> = {}) {
  return createBitbucketClient({
    ...credentials,
    baseUrl: site.origin,
    baseApiUrl: api.origin,
    allowedApiOrigins: [api.origin],
    allowedBaseOrigins: [site.origin],
    auth: 'oauth2-jwt',
    now,
    random: () => 0.5,
    sleep: async () => {},
    ...overrides,
  });
}

const bearer = (request: FakeBitbucket['requests'][number] | undefined) => (request?.auth.kind === 'bearer' ? request.auth.token : undefined);

describe('OAuth2 JWT bearer grant', () => {
  it('exchanges a JWT signed for the token POST for an access token, then calls the API with it', async () => {
    site.route('POST', TOKEN_PATH, issueToken);
    await expect(client().getRepository('acme', 'widgets')).resolves.toMatchObject({ name: 'widgets' });
    const [tokenRequest] = site.requests;
    // The fake verified iss/sub/exp and the qsh of `POST /site/oauth2/access_token`.
    expect(tokenRequest?.auth).toMatchObject({ kind: 'jwt', claims: { iss: 'gatehouse-test', sub: 'client-key-1' } });
    expect(tokenRequest?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(new URLSearchParams(tokenRequest?.body).get('grant_type')).toBe('urn:bitbucket:oauth2:jwt');
    expect(api.requests[0]?.headers.authorization).toBe('Bearer access-token-1');
  });

  it('caches the token until the refresh margin before expiry, then fetches a new one', async () => {
    site.route('POST', TOKEN_PATH, issueToken);
    const bb = client();
    await bb.getRepository('acme', 'widgets');
    clock = T0 + LIFETIME_S * 1000 - TOKEN_REFRESH_MARGIN_MS - 1;
    await bb.getRepository('acme', 'widgets');
    expect(site.requests).toHaveLength(1);
    clock += 1;
    await bb.getRepository('acme', 'widgets');
    expect(site.requests).toHaveLength(2);
    expect(api.requests.map(bearer)).toEqual(['access-token-1', 'access-token-1', 'access-token-2']);
  });

  it('shares one token request among concurrent callers', async () => {
    site.route('POST', TOKEN_PATH, issueToken);
    const bb = client();
    await Promise.all(Array.from({ length: 5 }, () => bb.getRepository('acme', 'widgets')));
    expect(site.requests).toHaveLength(1);
    expect(new Set(api.requests.map(bearer))).toEqual(new Set(['access-token-1']));
  });

  it('after a 401 drops the cached token and retries once with a new one', async () => {
    site.route('POST', TOKEN_PATH, issueToken);
    const bb = client();
    await bb.getRepository('acme', 'widgets');
    api.validBearerTokens.delete('access-token-1'); // revoked on Bitbucket's side
    await expect(bb.getRepository('acme', 'widgets')).resolves.toMatchObject({ name: 'widgets' });
    expect(api.requests.map(bearer)).toEqual(['access-token-1', undefined, 'access-token-2']);
    expect(api.authFailures).toEqual([`GET ${REPO}: unknown bearer token`]);
  });

  it('does not loop when the API keeps answering 401', async () => {
    site.route('POST', TOKEN_PATH, issueToken);
    api.route('GET', `${REPO}/pullrequests/1`, { status: 401, json: { type: 'error', error: { message: 'Access denied' } } });
    const error = (await client().getPullRequest('acme', 'widgets', 1).catch((e: unknown) => e)) as BitbucketApiError;
    expect(error).toBeInstanceOf(BitbucketApiError);
    expect(error.status).toBe(401);
    expect(site.requests).toHaveLength(2);
    expect(api.requests).toHaveLength(2);
  });

  it('retries the token request on 5xx and reports an OAuth error without retrying it', async () => {
    site.route('POST', TOKEN_PATH, { status: 503 }, issueToken);
    await client().getRepository('acme', 'widgets');
    expect(site.requests).toHaveLength(2);

    const refused = await FakeBitbucket.start(credentials, now);
    refused.route('POST', TOKEN_PATH, { status: 400, json: { error: 'invalid_grant', error_description: 'Unknown installation' } });
    const error = await client({ baseUrl: refused.origin, allowedBaseOrigins: [refused.origin] })
      .getRepository('acme', 'widgets')
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 400, path: TOKEN_PATH, bitbucketMessage: 'invalid_grant: Unknown installation' });
    expect(refused.requests).toHaveLength(1);
    await refused.close();
  });

  it('rejects a token answer without an access token, without echoing the body', async () => {
    site.route('POST', TOKEN_PATH, { status: 200, json: { token: 'secret-looking-value', expires_in: 3600 } });
    const error = (await client().getRepository('acme', 'widgets').catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(BitbucketProtocolError);
    expect(error.message).not.toContain('secret-looking-value');
    expect(api.requests).toEqual([]);
  });
});
