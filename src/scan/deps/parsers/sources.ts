import type { PackageSource } from '../../types.ts';

/**
 * Reads where a lockfile says a package was fetched from, for the URL and specifier forms
 * the npm-family lockfiles write: `git+ssh://...#commit`, `github:owner/repo#commit`,
 * codeload.github.com archives (a git commit), `file:` paths and plain archive URLs.
 */
export function sourceFromUrl(spec: string): PackageSource {
  if (spec.startsWith('file:')) return { kind: 'path', location: spec.slice('file:'.length) };
  const hash = spec.indexOf('#');
  const url = hash === -1 ? spec : spec.slice(0, hash);
  const revision = hash === -1 ? undefined : spec.slice(hash + 1);
  const withRevision = (location: string, rev: string | undefined): PackageSource => ({ kind: 'vcs', location, ...(rev ? { revision: rev } : {}) });
  const hosted = /^(github|gitlab|bitbucket):([^/]+\/[^/#]+)$/.exec(url);
  if (hosted) return withRevision(`https://${hosted[1]}.${hosted[1] === 'bitbucket' ? 'org' : 'com'}/${hosted[2]}`, revision);
  const codeload = /^https:\/\/codeload\.github\.com\/([^/]+\/[^/]+)\/tar\.gz\/([^/?#]+)$/.exec(url);
  if (codeload) return withRevision(`https://github.com/${codeload[1]}`, codeload[2]);
  if (/^(git\+|git:|ssh:)/.test(url) || /\.git$/.test(url)) return withRevision(url, revision);
  return { kind: 'url', location: spec };
}

/** Whether a version or resolved field is a registry version rather than a location. */
export function isLocation(spec: string): boolean {
  return /^(file:|link:|git\+|git:|ssh:|https?:|github:|gitlab:|bitbucket:)/.test(spec);
}
