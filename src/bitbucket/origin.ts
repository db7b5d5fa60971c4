import { BitbucketOriginError } from './errors.ts';

/**
 * The SSRF guard. An installation's `baseApiUrl` comes from the `installed` body, `next` links
 * and redirect targets come from response bodies and headers: none of them may steer a signed
 * request (or any request) to a host the operator did not allow-list.
 */
export class OriginAllowList {
  readonly origins: readonly string[];

  constructor(origins: readonly string[], what: string) {
    this.origins = origins.map((entry) => {
      const url = parseHttpUrl(entry);
      if (!url) throw new TypeError(`${what}: ${JSON.stringify(entry)} is not an http(s) origin`);
      return url.origin;
    });
  }

  /** Parses `url` and returns it when its origin is allowed; throws before anything is sent. */
  check(url: string | URL): URL {
    const text = String(url);
    const parsed = parseHttpUrl(text);
    if (!parsed) throw new BitbucketOriginError(redact(text), this.origins, 'not an absolute http(s) URL');
    if (parsed.username || parsed.password) {
      throw new BitbucketOriginError(redact(text), this.origins, 'URLs with credentials are never called');
    }
    if (!this.origins.includes(parsed.origin)) {
      throw new BitbucketOriginError(parsed.origin + parsed.pathname, this.origins, `origin ${parsed.origin} is not allow-listed`);
    }
    return parsed;
  }
}

function parseHttpUrl(text: string): URL | undefined {
  try {
    const url = new URL(text);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url : undefined;
  } catch {
    return undefined;
  }
}

/** Error messages must not echo credentials embedded in a hostile URL. */
function redact(text: string): string {
  return text.replace(/\/\/[^/@]*@/, '//***@').slice(0, 200);
}
