import { z } from 'zod';
import { BitbucketProtocolError } from './errors.ts';
import type { OriginAllowList } from './origin.ts';

/** Bitbucket's page envelope: `{pagelen, page?, size?, next?, previous?, values}`. */
const pageSchema = z.looseObject({
  values: z.array(z.unknown()),
  next: z.string().optional(),
});

/**
 * Yields every value of a paginated collection, following `next` exactly as Bitbucket gives it
 * (its query may carry cursors the client must not rebuild). Each `next` passes the allow-list
 * before it is fetched; a `next` seen before ends the walk with an error instead of looping.
 */
export async function* paginate<T>(
  first: URL,
  fetchPage: (url: URL) => Promise<unknown>,
  allow: OriginAllowList,
): AsyncGenerator<T, void, undefined> {
  const visited = new Set<string>();
  let url: URL | undefined = first;
  while (url) {
    visited.add(url.href);
    const parsed = pageSchema.safeParse(await fetchPage(url));
    if (!parsed.success) {
      throw new BitbucketProtocolError('GET', url.pathname + url.search, 'expected a page with a values array');
    }
    yield* parsed.data.values as T[];
    const next = parsed.data.next;
    if (next === undefined) return;
    url = allow.check(resolveNext(next, url));
    if (visited.has(url.href)) {
      throw new BitbucketProtocolError('GET', url.pathname + url.search, 'pagination loops back to a page already read');
    }
  }
}

function resolveNext(next: string, page: URL): URL {
  try {
    return new URL(next, page);
  } catch {
    throw new BitbucketProtocolError('GET', page.pathname + page.search, 'next is not a URL');
  }
}
