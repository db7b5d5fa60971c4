import { describe, expect, it } from 'vitest';
import type { CodeHost } from '../core/code-host.ts';
import { CodeHostRegistry } from './registry.ts';

const named = (name: string) => ({ name }) as unknown as CodeHost;

describe('CodeHostRegistry', () => {
  it('sends a registered prefix to its kind and every other key (Connect clientKeys contain colons too) to the default', async () => {
    const seen: string[] = [];
    const registry = new CodeHostRegistry(async (key) => (seen.push(`connect ${key}`), named('connect'))).register('datacenter:', async (key) => (seen.push(`dc ${key}`), named('dc')));
    expect(await registry.forTenant('datacenter:7f3a')).toEqual({ name: 'dc' });
    expect(await registry.forTenant('ari:cloud:bitbucket::app/{x}/gatehouse')).toEqual({ name: 'connect' });
    expect(await registry.forTenant('{a1b2}')).toEqual({ name: 'connect' });
    expect(seen).toEqual(['dc datacenter:7f3a', 'connect ari:cloud:bitbucket::app/{x}/gatehouse', 'connect {a1b2}']);
  });

  it('refuses a prefix without its colon and a kind registered twice', () => {
    const registry = new CodeHostRegistry(async () => named('connect'));
    expect(() => registry.register('forge', async () => named('forge'))).toThrow(/ending in ':'/);
    registry.register('forge:', async () => named('forge'));
    expect(() => registry.register('forge:', async () => named('forge'))).toThrow(/twice/);
  });
});
