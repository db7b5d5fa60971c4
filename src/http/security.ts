import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet, { type HelmetOptions } from 'helmet';
import type { RequestHandler } from 'express';

/**
 * Default headers for every response: nothing may frame us and nothing may load from a
 * JSON answer. Pages that Bitbucket embeds replace the policy per response (src/ui/csp.ts).
 */
const OPTIONS: Readonly<HelmetOptions> = {
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
};

/**
 * Helmet's headers as a flat `[name, value, name, value, ...]` list. They do not depend on
 * the request, so helmet itself runs once, against a recorder, and every response (Express
 * routes and the webhook intake alike) gets the recorded list instead of a pass through
 * helmet's eleven middlewares.
 */
export function fixedSecurityHeaders(): readonly string[] {
  const headers: string[] = [];
  const recorder = {
    setHeader(name: string, value: unknown) {
      headers.push(name, String(value));
    },
    removeHeader() {},
  } as unknown as ServerResponse;
  let finished = false;
  helmet(OPTIONS)({} as IncomingMessage, recorder, () => {
    finished = true;
  });
  if (!finished) throw new Error('helmet did not finish synchronously');
  return headers;
}

/** The Express middleware: sets the fixed headers; a page may still replace one (its CSP). */
export function securityHeaders(): RequestHandler {
  const headers = fixedSecurityHeaders();
  return (_req, res, next) => {
    for (let i = 0; i < headers.length; i += 2) res.setHeader(headers[i]!, headers[i + 1]!);
    next();
  };
}
