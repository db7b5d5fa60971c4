import type { NextFunction, Request, Response } from 'express';
import { z } from 'zod';

/**
 * Fault knobs: make the next N calls that match a path misbehave the way Bitbucket does under
 * load (429 with or without Retry-After, 5xx, slow answers, dropped connections), or as it
 * refuses credentials that expired (401).
 */

export const FAULT_KINDS = ['429', '429-retry-after', '401', '500', '503', 'slow', 'drop'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultSpec {
  /** A RegExp tested against the request path (with query), or a substring of it. */
  pathPattern: RegExp | string;
  method?: string;
  count: number;
  kind: FaultKind;
  /** For `slow`: how long to wait before answering normally (default 2000 ms). */
  delayMs?: number;
  /**
   * For `slow`, from code: answer normally once this settles, instead of after `delayMs`. A
   * test holds one call this way until other work has overtaken it, without racing a timer.
   */
  until?: Promise<unknown>;
  /** For `429-retry-after` (default 1). */
  retryAfterSeconds?: number;
  /**
   * The share of matching calls that fail (0 to 1, spread evenly: 0.05 fails every 20th),
   * instead of every matching call, until `count` have failed.
   */
  share?: number;
}

interface ActiveFault extends FaultSpec {
  remaining: number;
  /** Matching calls seen, for `share`. */
  seen: number;
}

/** Body of POST /_sim/faults; `pathPattern` given as `/regex/flags` or a plain substring. */
export const faultRequestSchema = z.object({
  pathPattern: z.string().min(1),
  method: z.string().regex(/^[A-Za-z]+$/).optional(),
  count: z.number().int().min(1).max(10_000),
  kind: z.enum(FAULT_KINDS),
  delayMs: z.number().int().min(0).max(120_000).optional(),
  retryAfterSeconds: z.number().int().min(0).max(3600).optional(),
  share: z.number().gt(0).max(1).optional(),
});

export function parsePattern(text: string): RegExp | string {
  const m = /^\/(.+)\/([a-z]*)$/.exec(text);
  return m ? new RegExp(m[1] as string, m[2]) : text;
}

/** Bitbucket Cloud's error body; Data Center's differs (`{"errors": [{"message"}]}`). */
const cloudErrorBody = (message: string): unknown => ({ type: 'error', error: { message } });

export class FaultInjector {
  private faults: ActiveFault[] = [];
  readonly triggered: { kind: FaultKind; method: string; url: string }[] = [];

  constructor(private readonly errorBody: (message: string) => unknown = cloudErrorBody) {}

  add(spec: FaultSpec): void {
    if (!Number.isInteger(spec.count) || spec.count < 1) throw new Error('fault count must be a positive integer');
    if (!FAULT_KINDS.includes(spec.kind)) throw new Error(`unknown fault kind ${String(spec.kind)}`);
    if (spec.share !== undefined && !(spec.share > 0 && spec.share <= 1)) throw new Error('fault share must be in (0, 1]');
    this.faults.push({ ...spec, remaining: spec.count, seen: 0 });
  }

  clear(): void {
    this.faults = [];
  }

  pending(): number {
    return this.faults.reduce((n, f) => n + f.remaining, 0);
  }

  /** Express middleware; sits in front of auth so that faults hit even malformed calls. */
  middleware() {
    return (req: Request, res: Response, next: NextFunction) => {
      const fault = this.take(req.method, req.originalUrl);
      if (!fault) return next();
      this.triggered.push({ kind: fault.kind, method: req.method, url: req.originalUrl });
      const error = (status: number, message: string) => res.status(status).json(this.errorBody(message));
      switch (fault.kind) {
        case '429':
          return error(429, 'Rate limit for this resource has been exceeded');
        case '429-retry-after':
          res.setHeader('Retry-After', String(fault.retryAfterSeconds ?? 1));
          return error(429, 'Rate limit for this resource has been exceeded');
        case '401':
          return error(401, 'Access token expired');
        case '500':
          return error(500, 'Something went wrong');
        case '503':
          return error(503, 'Service unavailable');
        case 'slow': {
          if (fault.until) {
            void fault.until.then(() => next(), () => next());
            return undefined;
          }
          const timer = setTimeout(next, fault.delayMs ?? 2000);
          res.on('close', () => clearTimeout(timer));
          return undefined;
        }
        case 'drop':
          req.socket.destroy();
          return undefined;
      }
    };
  }

  private take(method: string, url: string): ActiveFault | undefined {
    const fault = this.faults.find((f) => {
      if (f.method && f.method.toUpperCase() !== method.toUpperCase()) return false;
      if (!(typeof f.pathPattern === 'string' ? url.includes(f.pathPattern) : f.pathPattern.test(url))) return false;
      if (f.share === undefined) return true;
      f.seen += 1;
      return Math.floor(f.seen * f.share) > Math.floor((f.seen - 1) * f.share);
    });
    if (!fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.faults = this.faults.filter((f) => f !== fault);
    return fault;
  }
}
