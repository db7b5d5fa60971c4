import helmet from 'helmet';
import type { RequestHandler } from 'express';

/**
 * Default headers for every response: nothing may frame us and nothing may load from a
 * JSON answer. Pages that Bitbucket embeds replace the policy per response (src/ui/csp.ts).
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
