import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isDependencyFile, ParseError, parseLockfile, type PackageRef } from '../src/scan/deps/index.ts';

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
  it('v3: reads the packages tree, nested copies, direct flags, graph and key lines; skips workspaces and links', () => {
    const file = 'npm-v3/package-lock.json';
    const refs = parseFixture(file);
    expect(ids(refs)).toEqual(['@types/node@20.11.5', 'body-parser@1.19.0', 'express@4.17.1', 'lodash@4.17.15', 'qs@6.5.2', 'qs@6.7.0', 'undici-types@5.26.5']);
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

  it('v1: walks nested dependencies, resolves requires through scopes, skips file: versions', () => {
    const file = 'npm-v1/package-lock.json';
    const refs = parseFixture(file);
    expect(ids(refs)).toEqual(['debug@2.6.9', 'ms@2.0.0', 'ms@2.1.2']);
    expect(find(refs, 'debug@2.6.9').dependsOn).toEqual(['ms@2.0.0']);
    expect(find(refs, 'ms@2.0.0')).toMatchObject({ direct: false, line: lineOf(file, '"version": "2.0.0"') - 1 });
    expect(find(refs, 'ms@2.1.2')).toMatchObject({ direct: true, line: lineOf(file, '"version": "2.1.2"') - 1 });
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
      'is-negative@2.1.0 git https://github.com/kevva/is-negative@1d7e288222b53a0cab90a331f1865220ec29560c',
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
      'util-git@2.4.0 git https://github.com/acme/util-git.git@7fd1a60b01f91b314f59955a4e4d4e80d8edf11d',
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

  it('reports broken YAML as a ParseError', () => {
    expect(() => parseLockfile('pnpm-lock.yaml', "lockfileVersion: '9.0'\npackages:\n  a: [\n")).toThrow(ParseError);
    expect(() => parseLockfile('pnpm-lock.yaml', 'packages: {}\n')).toThrow(/lockfileVersion/);
  });
});

describe('Python', () => {
  it('requirements.txt: exact pins only; comments, options, markers, extras and hash continuations handled', () => {
    const file = 'python/requirements.txt';
    const refs = parseFixture(file);
    expect(ids(refs)).toEqual(['Django@3.2.4', 'Jinja2@2.11.2', 'PyYAML@5.3.1', 'requests@2.25.1', 'urllib3@1.26.4']);
    expect(find(refs, 'urllib3@1.26.4').line).toBe(lineOf(file, 'urllib3==1.26.4'));
    expect(refs.every((r) => r.ecosystem === 'PyPI' && r.direct)).toBe(true);
  });

  it('poetry.lock: packages with graph, skips directory sources, lines at name =', () => {
    const file = 'python/poetry.lock';
    const refs = parseFixture(file);
    expect(ids(refs)).toEqual(['certifi@2020.12.5', 'requests@2.25.1', 'urllib3@1.26.4']);
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
  it('Cargo.lock: registry crates only, duplicate names resolved by version, direct from workspace crates', () => {
    const file = 'cargo/Cargo.lock';
    const refs = parseFixture(file);
    expect(ids(refs)).toEqual(['hyper@0.14.4', 'smallvec@0.6.14', 'smallvec@1.6.0']);
    expect(find(refs, 'hyper@0.14.4')).toMatchObject({ ecosystem: 'crates.io', direct: true, dependsOn: ['smallvec@1.6.0'], line: lineOf(file, 'name = "hyper"') });
    expect(find(refs, 'smallvec@0.6.14').direct).toBe(false);
  });

  it('Gemfile.lock: GEM specs only, platform suffix stripped, one entry per version, direct from DEPENDENCIES', () => {
    const file = 'ruby/Gemfile.lock';
    const refs = parseFixture(file);
    expect(ids(refs)).toEqual(['actionpack@6.1.3', 'mini_portile2@2.5.0', 'nokogiri@1.11.1', 'racc@1.5.2', 'rack-test@1.1.0', 'rack@2.2.3']);
    expect(find(refs, 'nokogiri@1.11.1')).toMatchObject({ ecosystem: 'RubyGems', direct: true, line: lineOf(file, 'nokogiri (1.11.1)'), dependsOn: ['mini_portile2@2.5.0', 'racc@1.5.2'] });
    expect(find(refs, 'rack@2.2.3').direct).toBe(false);
    expect(() => parseLockfile('Gemfile.lock', 'hello\n')).toThrow(ParseError);
  });

  it('composer.lock: packages and packages-dev, v prefix stripped, branch versions skipped', () => {
    const file = 'php/composer.lock';
    const refs = parseFixture(file);
    expect(ids(refs)).toEqual(['guzzlehttp/psr7@1.7.0', 'phpunit/phpunit@9.5.0', 'psr/http-message@1.0.1', 'symfony/http-kernel@5.2.1']);
    expect(find(refs, 'symfony/http-kernel@5.2.1').line).toBe(lineOf(file, '"name": "symfony/http-kernel"'));
    expect(find(refs, 'guzzlehttp/psr7@1.7.0').dependsOn).toEqual(['psr/http-message@1.0.1']);
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

  it('gradle.lockfile: coordinates per line, empty= and comments ignored', () => {
    const file = 'gradle/gradle.lockfile';
    const refs = parseFixture(file);
    expect(ids(refs)).toEqual(['com.fasterxml.jackson.core:jackson-databind@2.9.10.1', 'com.google.guava:guava@29.0-jre', 'org.apache.commons:commons-text@1.9']);
    expect(find(refs, 'com.google.guava:guava@29.0-jre')).toMatchObject({ ecosystem: 'Maven', line: 5 });
    expect(() => parseLockfile('gradle.lockfile', 'not a coordinate\n')).toThrow(/line 1/);
  });
});

describe('dispatch', () => {
  it('recognises dependency files by name, in any folder', () => {
    for (const name of ['package-lock.json', 'a/b/npm-shrinkwrap.json', 'yarn.lock', 'web/pnpm-lock.yaml', 'requirements.txt', 'requirements-dev.txt', 'requirements/prod.txt', 'poetry.lock', 'Pipfile.lock', 'go.mod', 'Cargo.lock', 'Gemfile.lock', 'composer.lock', 'pom.xml', 'gradle.lockfile', 'buildscript-gradle.lockfile']) {
      expect(isDependencyFile(name), name).toBe(true);
    }
    for (const name of ['package.json', 'README.md', 'go.sum', 'Cargo.toml', 'lock.yaml', 'constructor', '__proto__']) {
      expect(isDependencyFile(name), name).toBe(false);
    }
    expect(parseLockfile('src/index.ts', 'export {}')).toEqual([]);
  });

  it('never lets a non-ParseError escape on garbage input', () => {
    const garbage = ['', '\u0000\u0001', '{', 'null', '[1,2]', '{"packages": 5}', '<<<', 'a: b: c', '[[package]]\nname = 1'];
    for (const name of ['package-lock.json', 'yarn.lock', 'pnpm-lock.yaml', 'poetry.lock', 'Pipfile.lock', 'go.mod', 'Cargo.lock', 'Gemfile.lock', 'composer.lock', 'pom.xml', 'gradle.lockfile', 'requirements.txt']) {
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
