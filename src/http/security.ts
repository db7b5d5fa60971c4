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

export function securityHeaders(): RequestHandler {
  return helmet(OPTIONS);
}

/**
 * The same headers as a flat `[name, value, name, value, ...]` list, for routes served
 * without Express (the webhook intake). Helmet's headers do not depend on the request, so
 * helmet itself is run once against a recorder instead of once per response.
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
