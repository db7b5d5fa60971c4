import type { CodeHost, CodeHostSource } from '../core/code-host.ts';

/** Builds (or returns a cached) code host for one tenant of a kind. */
export type CodeHostFactory = (tenantKey: string) => Promise<CodeHost>;

/**
 * Picks a tenant's code host by the prefix of its key: `datacenter:<instanceId>` and
 * `forge:...` tenants have their kinds registered; any other key is a Connect clientKey and goes
 * to the default. Each kind is one `register(prefix, factory)` in the wiring (src/codehost/index.ts).
 */
export class CodeHostRegistry implements CodeHostSource {
  readonly #kinds = new Map<string, CodeHostFactory>();

  constructor(private readonly fallback: CodeHostFactory) {}

  /** `prefix` ends with ':' (a clientKey could otherwise be mistaken for a kind). */
  register(prefix: string, factory: CodeHostFactory): this {
    if (!/^[a-z][a-z0-9-]*:$/.test(prefix)) throw new TypeError(`a code host kind is a lowercase word ending in ':', got ${JSON.stringify(prefix)}`);
    if (this.#kinds.has(prefix)) throw new TypeError(`code host kind ${prefix} is registered twice`);
    this.#kinds.set(prefix, factory);
    return this;
  }

  forTenant(tenantKey: string): Promise<CodeHost> {
    const colon = tenantKey.indexOf(':');
    const factory = colon > 0 ? this.#kinds.get(tenantKey.slice(0, colon + 1)) : undefined;
    return (factory ?? this.fallback)(tenantKey);
  }
}
