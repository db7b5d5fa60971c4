import type { Response } from 'express';

/** Where the host's Connect bridge lives on a Bitbucket origin. */
export function allJsUrl(bitbucketOrigin: string): string {
  return `${bitbucketOrigin}/atlassian-connect/all.js`;
}

/**
 * The Content-Security-Policy of a page Bitbucket frames. No inline script or style at all
 * (no nonce, no hashes): scripts come from our origin, plus exactly all.js (a path, not the
 * whole origin, so nothing else Bitbucket serves can run in our pages); styles from our
 * origin only. Framing is allowed to that one Bitbucket
 * origin, or, before the tenant is known (the 401 answer), to the configured allow-list.
 * X-Frame-Options cannot name an origin, so it is removed and frame-ancestors does the work.
 */
export function setFramedPagePolicy(res: Response, bitbucketOrigins: readonly string[]): void {
  res.removeHeader('X-Frame-Options');
  const origins = bitbucketOrigins.join(' ');
  res.setHeader(
    'Content-Security-Policy',
    [
      "default-src 'none'",
      `script-src 'self' ${bitbucketOrigins.map(allJsUrl).join(' ')}`,
      "style-src 'self'",
      "img-src 'self' data:",
      "connect-src 'self'",
      "base-uri 'none'",
      "form-action 'self'",
      "object-src 'none'",
      `frame-ancestors ${origins}`,
    ].join('; '),
  );
  // The iframe URL carries Bitbucket's JWT: it must not leak through Referer or caches.
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cache-Control', 'no-store');
}

export function originOf(url: string): string {
  return new URL(url).origin;
}

/**
 * The Content-Security-Policy of a page of our own that nothing frames (the Data Center operator
 * page): the framed pages' rules without all.js, framing refused, and no form may be submitted
 * anywhere (its one form is read by script, so the token it takes can never travel in a URL).
 */
export function setOwnPagePolicy(res: Response): void {
  res.setHeader(
    'Content-Security-Policy',
    ["default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'", "base-uri 'none'", "form-action 'none'", "object-src 'none'", "frame-ancestors 'none'"].join('; '),
  );
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cache-Control', 'no-store');
}
