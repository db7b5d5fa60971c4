import { createQueryStringHash, fromMethodAndUrl } from 'atlassian-jwt';
import { describe, expect, it } from 'vitest';
import { basePathOf, incomingQsh, relativePath } from './qsh.ts';

/** What a signer (Bitbucket, atlassian-jwt) computes for the URL it requests. */
function signerQsh(method: string, absoluteUrl: string, baseUrl: string): string {
  return createQueryStringHash(fromMethodAndUrl(method, absoluteUrl), false, baseUrl);
}

describe('incomingQsh agrees with the signer on awkward requests', () => {
  const cases: [string, string][] = [
    ['plain', '/connect/webhook'],
    ['repeated keys, unsorted values', '/connect/panels/repository?b=2&a=z&a=y&a=x'],
    ['encoded characters in query', '/connect/panels/repository?repoFullName=acme%2Fweb%20app&q=%E2%9C%93&star=*&bang=!'],
    ['plus as space', '/connect/panels/repository?title=a+b'],
    ['encoded characters in path', '/connect/panels/a%20b'],
    ['ampersand in path', '/connect/pa&nel'],
    ['empty value and bare key', '/connect/x?empty=&bare'],
    ['jwt parameter is left out', '/connect/x?a=1&jwt=abc.def.ghi'],
    ['braces from context variables', '/connect/x?repoUuid=%7Bc389eba6-ca13-49c5-8dec-4e617d39dffe%7D'],
  ];
  for (const baseUrl of ['https://gatehouse.example', 'https://x.example/gatehouse']) {
    const prefix = new URL(baseUrl).pathname.replace(/\/$/, '');
    for (const [name, url] of cases) {
      it(`${name} (BASE_URL ${baseUrl})`, () => {
        const expected = signerQsh('GET', `${baseUrl}${url}`, baseUrl);
        expect(incomingQsh('GET', `${prefix}${url}`, basePathOf(baseUrl))).toBe(expected);
        // A proxy that strips the prefix must not change the hash.
        expect(incomingQsh('GET', url, basePathOf(baseUrl))).toBe(expected);
      });
    }
  }

  it('ignores a trailing slash, as the canonical form does', () => {
    const expected = signerQsh('GET', 'https://g.example/connect/settings', 'https://g.example');
    expect(incomingQsh('GET', '/connect/settings/', '')).toBe(expected);
  });

  it('distinguishes method, path and query', () => {
    const base = incomingQsh('GET', '/connect/x?a=1', '');
    expect(incomingQsh('POST', '/connect/x?a=1', '')).not.toBe(base);
    expect(incomingQsh('GET', '/connect/y?a=1', '')).not.toBe(base);
    expect(incomingQsh('GET', '/connect/x?a=2', '')).not.toBe(base);
  });

  it('treats a[b]=c literally (no nested query parsing)', () => {
    expect(incomingQsh('GET', '/x?a%5Bb%5D=c', '')).toBe(signerQsh('GET', 'https://g.example/x?a[b]=c', 'https://g.example'));
  });
});

describe('relativePath', () => {
  it('strips the base path on a segment boundary only', () => {
    expect(relativePath('/gatehouse/connect/webhook', '/gatehouse')).toBe('/connect/webhook');
    expect(relativePath('/gatehouse', '/gatehouse')).toBe('/');
    expect(relativePath('/gatehouseX/connect', '/gatehouse')).toBe('/gatehouseX/connect');
    expect(relativePath('/connect/webhook', '')).toBe('/connect/webhook');
  });
  it('reads the base path from BASE_URL', () => {
    expect(basePathOf('https://x.example/gatehouse/')).toBe('/gatehouse');
    expect(basePathOf('https://x.example')).toBe('');
  });
});
