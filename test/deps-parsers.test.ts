import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DependencyFileSet, isDependencyFile, ParseError, parseLockfile, type PackageRef } from '../src/scan/deps/index.ts';

const FIXTURES = path.join(import.meta.dirname, 'fixtures/lockfiles');

function parseFixture(relative: string): PackageRef[] {
  const content = readFileSync(path.join(FIXTURES, relative), 'utf8');
  return parseLockfile(relative, content);
}

function lineOf(relative: string, needle: string): number {
  const lines = readFileSync(path.join(FIXTURES, relative), 'utf8').split('\n');
  const index = lines.findIndex((l) => l.includes(needle));
  if (index === -1) throw new Error(`${needle} not in ${relative}`);
  return index + 1;
}

function ids(refs: PackageRef[]): string[] {
  return refs.map((r) => `${r.name}@${r.version}`).sort();
}

/** `name@version`, with ` <kind> <location>[@revision]` for packages from outside the registry. */
function described(refs: PackageRef[]): string[] {
  return refs
    .map((r) => `${r.name}@${r.version}${r.source ? ` ${r.source.kind} ${r.source.location}${r.source.revision ? `@${r.source.revision}` : ''}` : ''}`)
    .sort();
}

function find(refs: PackageRef[], id: string): PackageRef {
  const ref = refs.find((r) => `${r.name}@${r.version}` === id);
  if (!ref) throw new Error(`${id} not parsed; got ${ids(refs).join(', ')}`);
  return ref;
}

describe('package-lock.json', () => {
  it('v3: reads the packages tree, nested copies, direct flags, graph and key lines; workspaces once, as path packages', () => {
    const file = 'npm-v3/package-lock.json';
    const refs = parseFixture(file);
    expect(described(refs)).toEqual([
      '@types/node@20.11.5',
      'body-parser@1.19.0',
      'express@4.17.1',
      'lodash@4.17.15',
      'qs@6.5.2',
      'qs@6.7.0',
      'ui@0.1.0 path packages/ui',
      'undici-types@5.26.5',
    ]);
    const express = find(refs, 'express@4.17.1');
    expect(express).toMatchObject({ ecosystem: 'npm', path: file, direct: true, line: lineOf(file, '"node_modules/express":') });
    // express's own nested qs wins over the hoisted one, as Node would resolve it.
    expect(express.dependsOn).toEqual(['body-parser@1.19.0', 'qs@6.5.2']);
    expect(find(refs, 'body-parser@1.19.0').dependsOn).toEqual(['qs@6.7.0']);
    expect(find(refs, 'qs@6.5.2').line).toBe(lineOf(file, '"node_modules/express/node_modules/qs"'));
    expect(find(refs, 'qs@6.7.0').direct).toBe(false);
    expect(find(refs, '@types/node@20.11.5').direct).toBe(true);
  });

  it('v2: prefers packages over the legacy dependencies section and resolves npm: aliases to the real name', () => {
    const file = 'npm-v2/package-lock.json';
    const refs = parseFixture(file);
    expect(ids(refs)).toEqual(['minimist@1.2.5', 'string-width@4.2.3']);
    expect(find(refs, 'string-width@4.2.3').line).toBe(lineOf(file, '"node_modules/string-width-cjs"'));
  });

  it('v1: walks nested dependencies, resolves requires through scopes, file: versions as path packages', () => {
    const file = 'npm-v1/package-lock.json';
    const refs = parseFixture(file);
    expect(described(refs)).toEqual(['debug@2.6.9', 'local-lib@ path ../local-lib', 'ms@2.0.0', 'ms@2.1.2']);
    expect(find(refs, 'debug@2.6.9').dependsOn).toEqual(['ms@2.0.0']);
    expect(find(refs, 'ms@2.0.0')).toMatchObject({ direct: false, line: lineOf(file, '"version": "2.0.0"') - 1 });
    expect(find(refs, 'ms@2.1.2')).toMatchObject({ direct: true, line: lineOf(file, '"version": "2.1.2"') - 1 });
  });

  it('v3: git, archive, file: and workspace packages once each, with their source; registry tarballs are not sources', () => {
    const file = 'npm-v3-sources/package-lock.json';
    const refs = parseFixture(file);
    expect(described(refs)).toEqual([
      '@babel/runtime@7.23.2',
      '@storefront/cart@0.1.0 path packages/cart',
      'date-fns@2.30.0',
      'hello-tar@0.2.0 url https://example.com/downloads/hello-tar-0.2.0.tgz',
      'local-helpers@0.4.1 path ../local-helpers',
      'semver@7.5.4 vcs git+ssh://git@github.com/acme/node-semver.git@5e1a1a5cf1a5e7a8e2bdb7ad5d4c1b7bde0a9c12',
    ]);
    expect(find(refs, 'local-helpers@0.4.1')).toMatchObject({ direct: true, line: lineOf(file, '"../local-helpers": {') });
    expect(find(refs, 'date-fns@2.30.0').dependsOn).toEqual(['@babel/runtime@7.23.2']);
  });

  it('npm-shrinkwrap.json is read like a package-lock', () => {
    expect(ids(parseFixture('shrinkwrap/npm-shrinkwrap.json'))).toEqual(['@babel/traverse@7.23.0']);
  });

  it('finds lines in minified JSON (all on line 1) and with escaped keys', () => {
    const lock = { lockfileVersion: 3, packages: { '': {}, 'node_modules/a\\b': { version: '1.0.0' }, 'node_modules/c': { version: '2.0.0' } } };
    const refs = parseLockfile('package-lock.json', JSON.stringify(lock));
    expect(refs.map((r) => [r.name, r.line])).toEqual([['a\\b', 1], ['c', 1]]);
    const pretty = parseLockfile('package-lock.json', JSON.stringify(lock, null, 2));
    expect(pretty.map((r) => r.line)).toEqual([5, 8]);
  });
});

describe('yarn.lock', () => {
  it('v1: one package per entry, multiple specs, graph by spec', () => {
    const file = 'yarn-v1/yarn.lock';
    const refs = parseFixture(file);
    expect(ids(refs)).toEqual(['@babel/code-frame@7.12.13', '@babel/highlight@7.13.10', 'chalk@2.4.2', 'js-tokens@4.0.0', 'lodash@4.17.20']);
    expect(find(refs, '@babel/highlight@7.13.10')).toMatchObject({ line: lineOf(file, '"@babel/highlight@^7.12.13":'), dependsOn: ['chalk@2.4.2', 'js-tokens@4.0.0'] });
    expect(find(refs, 'lodash@4.17.20').direct).toBeUndefined();
  });

  it('Berry: npm resolutions only (no workspace or patch), direct from the workspace entry', () => {
    const file = 'yarn-berry/yarn.lock';
    const refs = parseFixture(file);
    expect(ids(refs)).toEqual(['balanced-match@1.0.2', 'brace-expansion@1.1.11', 'concat-map@0.0.1', 'minimatch@3.0.4']);
    expect(find(refs, 'minimatch@3.0.4')).toMatchObject({ direct: true, line: lineOf(file, '"minimatch@npm:^3.0.4'), dependsOn: ['brace-expansion@1.1.11'] });
    expect(find(refs, 'brace-expansion@1.1.11')).toMatchObject({ direct: false, dependsOn: ['balanced-match@1.0.2', 'concat-map@0.0.1'] });
  });

  it('v1: npm: aliases under the real package name; git, archive and file: packages with their source', () => {
    const file = 'yarn-v1-sources/yarn.lock';
    const refs = parseFixture(file);
    expect(described(refs)).toEqual([
      '@acme/design-tokens@2.0.0 path ./packages/design-tokens',
      'ansi-regex@5.0.1',
      'left-pad@1.3.0 url https://registry.example.com/tarballs/left-pad-1.3.0.tgz',
      'lodash-es@4.17.21 vcs https://github.com/lodash/lodash@3f4a5a3d2c6e7b8a9f0e1d2c3b4a5f6e7d8c9b0a',
      'my-fork@1.4.0 vcs git+https://github.com/acme/my-fork.git@9b2f3c1d4e5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c',
      'string-width@4.2.3',
      'strip-ansi@6.0.1',
      'wrap-ansi@7.0.0',
    ]);
    expect(find(refs, 'wrap-ansi@7.0.0').dependsOn).toEqual(['string-width@4.2.3', 'strip-ansi@6.0.1']);
    expect(find(refs, 'my-fork@1.4.0').dependsOn).toEqual(['ansi-regex@5.0.1']);
  });

  it('Berry: workspaces (not the root), git, archive and file: packages with their source', () => {
    const file = 'yarn-berry-sources/yarn.lock';
    const refs = parseFixture(file);
    expect(described(refs)).toEqual([
      '@acme/ui@0.0.0-use.local path packages/ui',
      'clsx@2.1.0',
      'legacy-date@0.9.1 url https://example.com/legacy-date-0.9.1.tgz',
      'shared-config@1.2.0 path ./vendor/shared-config',
      'tiny-emitter@2.1.0 vcs https://github.com/scottcorgan/tiny-emitter.git@4d2a8f27c2cb65e3a6d4c1a25c3b36c55cce8e5a',
    ]);
    expect(refs.every((r) => r.direct)).toBe(true);
  });

  it('rejects text that is not a yarn.lock', () => {
    expect(() => parseLockfile('yarn.lock', 'this is not a lockfile\n')).toThrow(ParseError);
    expect(() => parseLockfile('yarn.lock', 'lodash@^4:\n  resolved "x"\n')).toThrow(/no version/);
  });
});

describe('pnpm-lock.yaml', () => {
  it('v5: /name/version keys with _peer suffixes, scoped names, root dependencies', () => {
    const file = 'pnpm-v5/pnpm-lock.yaml';
    const refs = parseFixture(file);
    expect(ids(refs)).toContain('@babel/runtime@7.12.5');
    const reactDom = find(refs, 'react-dom@17.0.2');
    expect(reactDom).toMatchObject({ direct: true, line: lineOf(file, '/react-dom/17.0.2_react@17.0.2:') });
    expect(reactDom.dependsOn).toEqual(['loose-envify@1.4.0', 'react@17.0.2']);
    expect(find(refs, 'react@17.0.2').direct).toBe(false);
  });

  it('v6: /name@version keys with (peer) suffixes and importers', () => {
    const file = 'pnpm-v6/pnpm-lock.yaml';
    const refs = parseFixture(file);
    expect(ids(refs)).toEqual(['axios@0.21.1', 'follow-redirects@1.14.0', 'react-redux@8.0.5', 'react@18.2.0', 'redux@4.2.1']);
    expect(find(refs, 'react-redux@8.0.5')).toMatchObject({ direct: true, dependsOn: ['react@18.2.0', 'redux@4.2.1'], line: lineOf(file, '/react-redux@8.0.5(') });
  });

  it('v9: name@version keys, graph from snapshots, aliases in importers', () => {
    const file = 'pnpm-v9/pnpm-lock.yaml';
    const refs = parseFixture(file);
    expect(ids(refs)).toEqual(['@vitejs/plugin-react@4.2.1', 'esbuild@0.19.11', 'vite@5.0.10']);
    expect(find(refs, '@vitejs/plugin-react@4.2.1')).toMatchObject({ direct: true, dependsOn: ['vite@5.0.10'], line: lineOf(file, "'@vitejs/plugin-react@4.2.1':") });
    expect(find(refs, 'esbuild@0.19.11').direct).toBe(true);
    expect(find(refs, 'vite@5.0.10').dependsOn).toEqual(['esbuild@0.19.11']);
  });

  it('v5: keys naming the registry host, git (commit starting with a digit), tarball and directory packages', () => {
    const file = 'pnpm-v5-sources/pnpm-lock.yaml';
    const refs = parseFixture(file);
    expect(described(refs)).toEqual([
      '@acme/utils@0.3.0 path projects/utils',
      '@internal/logger@2.0.1',
      'is-negative@2.1.0 vcs https://github.com/kevva/is-negative@1d7e288222b53a0cab90a331f1865220ec29560c',
      'left-pad@1.3.0 url https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz',
      'ms@2.1.3',
    ]);
    expect(find(refs, '@internal/logger@2.0.1')).toMatchObject({ direct: true, dependsOn: ['ms@2.1.3'], line: lineOf(file, 'registry.npmjs.org/@internal/logger/2.0.1:') });
    expect(find(refs, '@acme/utils@0.3.0')).toMatchObject({ direct: true, dependsOn: ['ms@2.1.3'] });
    expect(refs.every((r) => r.direct)).toBe(true);
  });

  it('v9: reads every YAML document (the pnpm 10+ environment document first) and non-registry packages', () => {
    const file = 'pnpm-v9-env/pnpm-lock.yaml';
    const refs = parseFixture(file);
    expect(described(refs)).toEqual([
      'is-number@6.0.0',
      'is-odd@3.0.1',
      'local-lib@0.1.0 path libs/local-lib',
      'pnpm@11.0.3',
      'tiny-tar@1.0.0 url https://example.com/tiny-tar-1.0.0.tgz',
      'util-git@2.4.0 vcs https://github.com/acme/util-git.git@7fd1a60b01f91b314f59955a4e4d4e80d8edf11d',
    ]);
    expect(find(refs, 'is-odd@3.0.1')).toMatchObject({ direct: true, dependsOn: ['is-number@6.0.0'], line: lineOf(file, '  is-odd@3.0.1:') });
    expect(find(refs, 'local-lib@0.1.0')).toMatchObject({ direct: true, dependsOn: ['is-odd@3.0.1'] });
    expect(find(refs, 'is-number@6.0.0').direct).toBe(false);
  });

  it('refuses YAML aliases that would expand without bound', () => {
    const bomb = ["lockfileVersion: '9.0'", 'a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 0; i < 3; i++) bomb.push(`${'b'.repeat(i + 1)}: &${'b'.repeat(i + 1)} [${Array(10).fill(i === 0 ? '*a' : `*${'b'.repeat(i)}`).join(', ')}]`);
    expect(() => parseLockfile('pnpm-lock.yaml', bomb.join('\n'))).toThrow(ParseError);
  });

  it('refuses deeply nested YAML flow collections before the YAML library sees them (it runs out of memory on 40,000)', () => {
    for (const name of ['pnpm-lock.yaml', 'pubspec.lock']) {
      expect(() => parseLockfile(name, `lockfileVersion: '9.0'\npackages: ${'['.repeat(40_000)}`)).toThrow(/nested more than 64 levels/);
    }
  });

  it('reports broken YAML as a ParseError', () => {
    expect(() => parseLockfile('pnpm-lock.yaml', "lockfileVersion: '9.0'\npackages:\n  a: [\n")).toThrow(ParseError);
    expect(() => parseLockfile('pnpm-lock.yaml', 'packages: {}\n')).toThrow(/lockfileVersion/);
  });
});

describe('Python', () => {
  it('requirements.txt: exact pins only; comments, options, markers, extras and hash continuations handled', () => {
    const file = 'python/requirements.txt';
    const refs = parseFixture(file);
    expect(described(refs)).toEqual(['Django@3.2.4', 'Jinja2@2.11.2', 'PyYAML@5.3.1', 'editable@ vcs git+https://github.com/example/editable.git', 'requests@2.25.1', 'urllib3@1.26.4']);
    expect(find(refs, 'urllib3@1.26.4').line).toBe(lineOf(file, 'urllib3==1.26.4'));
    expect(refs.every((r) => r.ecosystem === 'PyPI' && r.direct)).toBe(true);
  });

  it('requirements.txt: -c/-C lines and options, comments without a space, direct references and editable VCS installs', () => {
    const file = 'python-sources/requirements.txt';
    const refs = parseFixture(file);
    expect(described(refs)).toEqual([
      'certifi@2023.7.22',
      'charset-normalizer@3.2.0',
      'feature-flags@4b1c9e2 vcs git+https://github.com/acme/feature-flags.git@4b1c9e2',
      'idna@3.4',
      'internal-auth@v2.3.1 vcs git+https://bitbucket.org/acme/internal-auth.git@v2.3.1',
      'numpy@1.26.0',
      'vendored-client@ path /srv/build/vendor/vendored_client-1.0.0-py3-none-any.whl',
    ]);
    expect(find(refs, 'numpy@1.26.0').line).toBe(lineOf(file, 'numpy=='));
  });

  it('requirements.txt written as UTF-16 (with its byte-order mark) reads like UTF-8, however it was decoded', () => {
    const text = 'requests==2.31.0\r\nurllib3==2.0.7  # via requests\r\n';
    const utf16le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    const utf16be = Buffer.from(utf16le.map((_, i) => utf16le[i ^ 1]!));
    for (const bytes of [utf16le, utf16be]) {
      expect(ids(parseLockfile('requirements.txt', bytes.toString('utf8')))).toEqual(['requests@2.31.0', 'urllib3@2.0.7']);
      expect(ids(parseLockfile('requirements.txt', new TextDecoder(bytes[0] === 0xff ? 'utf-16le' : 'utf-16be').decode(bytes)))).toEqual(['requests@2.31.0', 'urllib3@2.0.7']);
    }
  });

  it('poetry.lock: git (resolved commit), archive and directory sources', () => {
    const refs = parseFixture('python-sources/poetry.lock');
    expect(described(refs)).toEqual([
      'attrs@23.1.0',
      'internal-models@1.1.0 path libs/internal-models',
      'pendulum@3.0.0.dev0 vcs https://github.com/sdispater/pendulum.git@7c8b6a5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b',
      'report-kit@0.5.2 url https://downloads.example.com/report_kit-0.5.2.tar.gz',
    ]);
    expect(find(refs, 'pendulum@3.0.0.dev0').dependsOn).toEqual(['attrs@23.1.0']);
  });

  it('poetry.lock: packages with graph, directory sources as path packages, lines at name =', () => {
    const file = 'python/poetry.lock';
    const refs = parseFixture(file);
    expect(described(refs)).toEqual(['certifi@2020.12.5', 'my-lib@0.1.0 path ../my-lib', 'requests@2.25.1', 'urllib3@1.26.4']);
    expect(find(refs, 'requests@2.25.1')).toMatchObject({ line: lineOf(file, 'name = "requests"'), dependsOn: ['certifi@2020.12.5', 'urllib3@1.26.4'] });
  });

  it('Pipfile.lock: default and develop, == stripped, editable entries skipped', () => {
    const file = 'python/Pipfile.lock';
    const refs = parseFixture(file);
    expect(ids(refs)).toEqual(['jinja2@2.11.2', 'markupsafe@1.1.1', 'pytest@6.2.2']);
    expect(find(refs, 'pytest@6.2.2').line).toBe(lineOf(file, '"pytest": {'));
  });

  it('broken TOML and JSON become ParseErrors naming the file', () => {
    expect(() => parseLockfile('sub/poetry.lock', '[[package]\nname = ')).toThrow(/^sub\/poetry.lock: invalid TOML/);
    expect(() => parseLockfile('Pipfile.lock', '{"default": ')).toThrow(/invalid JSON/);
    expect(() => parseLockfile('Pipfile.lock', '[]')).toThrow(/JSON object/);
  });
});

describe('go.mod', () => {
  it('require lines and blocks, indirect, versioned and local replaces, quoted paths', () => {
    const file = 'go/go.mod';
    const refs = parseFixture(file);
    expect(ids(refs)).toEqual([
      'github.com/dgrijalva/jwt-go@v3.2.0+incompatible',
      'github.com/gin-gonic/gin@v1.7.0',
      'github.com/quoted/module@v1.2.3',
      'golang.org/x/crypto@v0.0.0-20200622213623-75b288015ac9',
      'golang.org/x/net@v0.17.0',
    ]);
    expect(find(refs, 'golang.org/x/crypto@v0.0.0-20200622213623-75b288015ac9')).toMatchObject({ direct: false, line: lineOf(file, 'golang.org/x/crypto') });
    expect(find(refs, 'golang.org/x/net@v0.17.0')).toMatchObject({ line: lineOf(file, 'golang.org/x/net v0.7.0 // indirect') });
    expect(find(refs, 'github.com/gin-gonic/gin@v1.7.0')).toMatchObject({ direct: true, line: lineOf(file, 'require github.com/gin-gonic/gin') });
  });

  it('an unterminated block or a malformed require is a ParseError', () => {
    expect(() => parseLockfile('go.mod', 'module x\nrequire (\n  a v1.0.0\n')).toThrow(/unterminated/);
    expect(() => parseLockfile('go.mod', 'module x\nrequire a\n')).toThrow(/line 2/);
  });
});

describe('other ecosystems', () => {
  it('Cargo.lock: duplicate names resolved by version, direct from workspace crates, git and local crates with their source', () => {
    const file = 'cargo/Cargo.lock';
    const refs = parseFixture(file);
    expect(described(refs)).toEqual([
      'app@0.1.0 path ',
      'forked@0.2.0 vcs git+https://github.com/example/forked@abc123',
      'hyper@0.14.4',
      'smallvec@0.6.14',
      'smallvec@1.6.0',
      'util@0.1.0 path ',
    ]);
    expect(find(refs, 'hyper@0.14.4')).toMatchObject({ ecosystem: 'crates.io', direct: true, dependsOn: ['smallvec@1.6.0'], line: lineOf(file, 'name = "hyper"') });
    expect(find(refs, 'smallvec@0.6.14').direct).toBe(false);
  });

  it('Gemfile.lock: platform suffix stripped, one entry per version, direct from DEPENDENCIES, GIT gems with their revision', () => {
    const file = 'ruby/Gemfile.lock';
    const refs = parseFixture(file);
    expect(described(refs)).toEqual([
      'actionpack@6.1.3',
      'mini_portile2@2.5.0',
      'nokogiri@1.11.1',
      'private_gem@0.3.0 vcs https://github.com/example/private_gem.git@3f7c2b5a1d9e8f6a4b3c2d1e0f9a8b7c6d5e4f3a',
      'racc@1.5.2',
      'rack-test@1.1.0',
      'rack@2.2.3',
    ]);
    expect(find(refs, 'nokogiri@1.11.1')).toMatchObject({ ecosystem: 'RubyGems', direct: true, line: lineOf(file, 'nokogiri (1.11.1)'), dependsOn: ['mini_portile2@2.5.0', 'racc@1.5.2'] });
    expect(find(refs, 'rack@2.2.3').direct).toBe(false);
    expect(() => parseLockfile('Gemfile.lock', 'hello\n')).toThrow(ParseError);
  });

  it('composer.lock: packages and packages-dev, v prefix stripped, branch versions listed with their source', () => {
    const file = 'php/composer.lock';
    const refs = parseFixture(file);
    expect(described(refs)).toEqual(['acme/internal@dev-main url ', 'guzzlehttp/psr7@1.7.0', 'phpunit/phpunit@9.5.0', 'psr/http-message@1.0.1', 'symfony/http-kernel@5.2.1']);
    expect(find(refs, 'symfony/http-kernel@5.2.1').line).toBe(lineOf(file, '"name": "symfony/http-kernel"'));
    expect(find(refs, 'guzzlehttp/psr7@1.7.0').dependsOn).toEqual(['psr/http-message@1.0.1']);
  });

  it('Gemfile.lock: PATH and GIT gems with their directory or revision', () => {
    const refs = parseFixture('ruby-sources/Gemfile.lock');
    expect(described(refs)).toEqual([
      'admin_engine@1.0.0 path engines/admin',
      'bcrypt@3.1.20',
      'devise@4.9.3 vcs https://github.com/heartcombo/devise.git@1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d',
      'invoice_pdf@0.4.0 path .',
      'orm_adapter@0.5.0',
      'pdf-core@0.9.0',
      'prawn@2.4.0',
      'ttfunk@1.7.0',
    ]);
    expect(find(refs, 'invoice_pdf@0.4.0')).toMatchObject({ direct: true, dependsOn: ['prawn@2.4.0'] });
    expect(find(refs, 'devise@4.9.3').dependsOn).toEqual(['bcrypt@3.1.20', 'orm_adapter@0.5.0']);
  });

  it('composer.lock: dev-branch versions with their repository and commit, path repositories with their directory', () => {
    const refs = parseFixture('php-sources/composer.lock');
    expect(described(refs)).toEqual([
      'acme/billing-sdk@dev-main vcs https://github.com/acme/billing-sdk.git@2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e',
      'acme/coding-standard@2.x-dev vcs https://bitbucket.org/acme/coding-standard.git@9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d',
      'acme/shared-kernel@1.4.0 path ../shared-kernel',
      'monolog/monolog@3.5.0',
      'psr/log@3.0.0',
    ]);
    expect(find(refs, 'acme/billing-sdk@dev-main').dependsOn).toEqual(['monolog/monolog@3.5.0']);
  });

  it('pom.xml: explicit, property and managed versions; parent-managed, unresolved and ranged ones skipped', () => {
    const file = 'maven/pom.xml';
    const refs = parseFixture(file);
    expect(ids(refs)).toEqual(['com.example:orders-api@1.4.0', 'commons-io:commons-io@2.6', 'org.apache.logging.log4j:log4j-core@2.14.1']);
    expect(find(refs, 'org.apache.logging.log4j:log4j-core@2.14.1').line).toBe(lineOf(file, '<artifactId>log4j-core</artifactId>'));
    // The declared dependency's line, not its dependencyManagement entry's.
    const commonsLines = readFileSync(path.join(FIXTURES, file), 'utf8').split('\n').flatMap((l, i) => (l.includes('<artifactId>commons-io</artifactId>') ? [i + 1] : []));
    expect(find(refs, 'commons-io:commons-io@2.6').line).toBe(commonsLines[1]);
    expect(() => parseLockfile('pom.xml', '<project><dependencies></project>')).toThrow(/invalid XML/);
    expect(() => parseLockfile('pom.xml', '<settings/>')).toThrow(/no <project>/);
  });

  it('pom.xml: dependencyManagement entries alone are not dependencies', () => {
    const refs = parseFixture('maven-parent/pom.xml');
    expect(ids(refs)).toEqual(['org.slf4j:slf4j-api@1.7.36']);
  });

  it('read together: a shrinkwrap hides its package-lock, go.sum completes a Go 1.16 go.mod, a child pom inherits from its local parent', () => {
    const read = (folder: string, files: string[]): string[] => {
      const set = new DependencyFileSet();
      for (const f of files) set.add(`${folder}/${f}`, readFileSync(path.join(FIXTURES, folder, f), 'utf8'));
      return ids(set.packages());
    };
    expect(read('shrinkwrap-pair', ['package-lock.json', 'npm-shrinkwrap.json'])).toEqual(['commander@11.1.0']);
    expect(read('shrinkwrap-pair', ['package-lock.json'])).toEqual(['commander@9.5.0']);
    expect(read('go-1.16', ['go.mod', 'go.sum'])).toEqual([
      'github.com/davecgh/go-spew@v1.1.1',
      'github.com/gorilla/mux@v1.8.0',
      'github.com/pmezard/go-difflib@v1.0.0',
      'github.com/sirupsen/logrus@v1.8.1',
      'github.com/stretchr/testify@v1.2.2',
      'golang.org/x/sys@v0.0.0-20200930185726-fdedc70b468f',
    ]);
    expect(read('go-1.21', ['go.mod', 'go.sum'])).toEqual(['github.com/gorilla/mux@v1.8.0', 'github.com/sirupsen/logrus@v1.8.1']);
    expect(read('maven-parent', ['orders-app/pom.xml', 'pom.xml'])).toEqual([
      'com.acme.orders:orders-model@2.3.0',
      'com.fasterxml.jackson.core:jackson-databind@2.15.2',
      'org.apache.commons:commons-text@1.9',
      'org.slf4j:slf4j-api@1.7.36',
    ]);
    // Without its parent, the child's inherited versions are unknown and skipped, not guessed.
    expect(read('maven-parent', ['orders-app/pom.xml'])).toEqual(['com.acme.orders:orders-model@2.3.0']);
  });

  it('gradle.lockfile: a malformed line (merge leftovers) is skipped with a notice, the rest is read', () => {
    const notices: string[] = [];
    const file = 'gradle-malformed/gradle.lockfile';
    const refs = parseLockfile(file, readFileSync(path.join(FIXTURES, file), 'utf8'), (m) => notices.push(m));
    expect(ids(refs)).toEqual(['com.squareup.okhttp3:okhttp@4.9.0', 'com.squareup.okio:okio@2.10.0', 'com.squareup.okio:okio@2.8.0', 'org.jetbrains.kotlin:kotlin-stdlib@1.4.10']);
    expect(notices).toEqual([`${file}: lines 5, 7, 9, 11 are not "group:artifact:version=configurations" and skipped`]);
  });

  it('gradle.lockfile: coordinates per line, empty= and comments ignored', () => {
    const file = 'gradle/gradle.lockfile';
    const refs = parseFixture(file);
    expect(ids(refs)).toEqual(['com.fasterxml.jackson.core:jackson-databind@2.9.10.1', 'com.google.guava:guava@29.0-jre', 'org.apache.commons:commons-text@1.9']);
    expect(find(refs, 'com.google.guava:guava@29.0-jre')).toMatchObject({ ecosystem: 'Maven', line: 5 });
    expect(() => parseLockfile('gradle.lockfile', 'not a coordinate\n')).toThrow(/line 1/);
  });
});

describe('new formats', () => {
  it('mix.lock: terms are read, never evaluated; an unreadable or too deeply nested line is skipped with a notice', () => {
    const notices: string[] = [];
    const lock = [
      '%{',
      '  "plug": {:hex, :plug, "1.15.2", "abc", [:mix], [{:mime, "~> 2.0", [hex: :mime, repo: "hexpm", optional: false]}], "hexpm", "def"},',
      '  "mime": {:hex, :mime, "2.0.5", "abc", [:mix], [], "hexpm", "def"},',
      `  "deep": {:hex, :deep, "1.0.0", ${'['.repeat(50_000)}},`,
      '  "evil": {:hex, :evil, "#{System.cmd("rm", ["-rf"])}", "abc", [:mix], [], "hexpm", "def"},',
      '  "code": {:hex, :code, File.read!("/etc/passwd"), "abc", [:mix], [], "hexpm", "def"},',
      '}',
    ].join('\n');
    const refs = parseLockfile('mix.lock', lock, (m) => notices.push(m));
    expect(refs.map((r) => `${r.ecosystem} ${r.name}@${r.version}`)).toEqual(['Hex plug@1.15.2', 'Hex mime@2.0.5']);
    expect(find(refs, 'plug@1.15.2').dependsOn).toEqual(['mime@2.0.5']);
    expect(notices).toEqual(['mix.lock: lines 4, 5, 6 could not be read and were skipped']);
  });

  it('bun.lock: comments and trailing commas (JSONC), a nested copy resolved from its parent', () => {
    const lock = `{
      // written by bun 1.2
      "lockfileVersion": 1, /* text lockfile */
      "workspaces": { "": { "dependencies": { "a": "^1", }, }, },
      "packages": {
        "a": ["a@1.0.0", "", { "dependencies": { "b": "^2" } }, "sha512-x"],
        "a/b": ["b@2.0.0", "", {}, "sha512-y",],
        "b": ["b@1.0.0", "", {}, "sha512-z"],
      },
    }`;
    const refs = parseLockfile('bun.lock', lock);
    expect(ids(refs)).toEqual(['a@1.0.0', 'b@1.0.0', 'b@2.0.0']);
    expect(find(refs, 'a@1.0.0')).toMatchObject({ direct: true, dependsOn: ['b@2.0.0'], line: 6 });
    expect(() => parseLockfile('bun.lock', '{ "lockfileVersion": 1, "packages": { "a": ["a@1.0.0"] ')).toThrow(ParseError);
  });
});

describe('dispatch', () => {
  it('recognises dependency files by name, in any folder', () => {
    for (const name of ['package-lock.json', 'a/b/npm-shrinkwrap.json', 'yarn.lock', 'web/pnpm-lock.yaml', 'requirements.txt', 'requirements-dev.txt', 'requirements/prod.txt', 'poetry.lock', 'Pipfile.lock', 'go.mod', 'Cargo.lock', 'Gemfile.lock', 'composer.lock', 'pom.xml', 'gradle.lockfile', 'buildscript-gradle.lockfile', 'uv.lock', 'pdm.lock', 'bun.lock', 'app/pubspec.lock', 'mix.lock', 'src/Api/packages.lock.json', 'App.xcodeproj/project.xcworkspace/xcshareddata/swiftpm/Package.resolved', 'gems.locked']) {
      expect(isDependencyFile(name), name).toBe(true);
    }
    for (const name of ['package.json', 'README.md', 'Cargo.toml', 'lock.yaml', 'constructor', '__proto__']) {
      expect(isDependencyFile(name), name).toBe(false);
    }
    expect(parseLockfile('src/index.ts', 'export {}')).toEqual([]);
  });

  it('never lets a non-ParseError escape on garbage input', () => {
    const garbage = ['', '\u0000\u0001', '{', 'null', '[1,2]', '{"packages": 5}', '<<<', 'a: b: c', '[[package]]\nname = 1'];
    for (const name of ['package-lock.json', 'yarn.lock', 'pnpm-lock.yaml', 'poetry.lock', 'Pipfile.lock', 'go.mod', 'Cargo.lock', 'Gemfile.lock', 'composer.lock', 'pom.xml', 'gradle.lockfile', 'requirements.txt', 'uv.lock', 'pdm.lock', 'bun.lock', 'pubspec.lock', 'mix.lock', 'packages.lock.json', 'Package.resolved']) {
      for (const content of garbage) {
        try {
          const refs = parseLockfile(name, content);
          expect(Array.isArray(refs)).toBe(true);
        } catch (error) {
          expect(error, `${name} on ${JSON.stringify(content)}`).toBeInstanceOf(ParseError);
          expect((error as ParseError).file).toBe(name);
        }
      }
    }
  });
});
