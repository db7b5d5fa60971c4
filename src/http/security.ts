import helmet from 'helmet';
import type { RequestHandler, Response } from 'express';

/**
 * Default headers for every response: nothing may frame us and nothing may load from a
 * JSON answer. Pages that Bitbucket embeds opt out per response with `allowFramingBy`.
 */
export function securityHeaders(): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'none'"],
      },
    },
    xFrameOptions: { action: 'deny' },
    // The app is an API and a set of iframes: it never needs to be a referrer.
    referrerPolicy: { policy: 'no-referrer' },
  });
}

export interface FramedPageSources {
  /** Origins allowed to frame the page: the installation's Bitbucket origin. */
  frameAncestors: string[];
  /** Origins scripts may load from besides nonce'd inline ones (all.js lives on the host). */
  scriptOrigins: string[];
  nonce: string;
}

/**
 * Replaces the default framing policy on one response. X-Frame-Options cannot name an
 * origin (ALLOW-FROM is dead), so it is removed and CSP frame-ancestors does the work.
 */
export function allowFramingBy(res: Response, sources: FramedPageSources): void {
  res.removeHeader('X-Frame-Options');
  const nonce = `'nonce-${sources.nonce}'`;
  res.setHeader(
    'Content-Security-Policy',
    [
      "default-src 'none'",
      `script-src ${[...sources.scriptOrigins, nonce].join(' ')}`,
      `style-src ${nonce}`,
      "img-src 'self' data:",
      "connect-src 'self'",
      "base-uri 'none'",
      "form-action 'self'",
      `frame-ancestors ${sources.frameAncestors.join(' ')}`,
    ].join('; '),
  );
}
