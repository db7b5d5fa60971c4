// Deterministic planted-secret corpus: a tree of realistic source and configuration
// files with known secrets (one per token family, listed in a manifest) and decoys that
// look like secrets but are not (placeholders, documented EXAMPLE keys, variable
// references, low-entropy values, hashes and UUIDs). Shared by the secret-engine bench,
// the recall test and the CLI bench, so every figure is measured on the same text.
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface Planted {
  /** Token family, e.g. `aws-access-key-id`; several rules may legitimately report it. */
  family: string;
  /** Corpus-relative path, forward slashes. */
  path: string;
  /** 1-based line the secret is on (for a PEM block, its BEGIN line). */
  line: number;
}

export interface Corpus {
  files: number;
  planted: Planted[];
  decoys: number;
}

/** mulberry32: small, fast, and the same sequence on every machine. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  const chars = (alphabet: string, n: number) => Array.from({ length: n }, () => alphabet[int(alphabet.length)]).join('');
  return { next, int, pick, chars };
}
type Rng = ReturnType<typeof prng>;

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const DIGITS = '0123456789';
const ALNUM = UPPER + LOWER + DIGITS;
const HEX = '0123456789abcdef';
const B64 = `${ALNUM}+/`;
const B64URL = `${ALNUM}-_`;

/** A token family: an assignment name and a generator of a valid-looking value. */
interface Family {
  family: string;
  name: string;
  value: (r: Rng) => string;
}

const b64url = (s: string) => Buffer.from(s).toString('base64url');

const FAMILIES: Family[] = [
  { family: 'aws-access-key-id', name: 'aws_access_key_id', value: (r) => `AKIA${r.chars(`${UPPER}234567`, 16)}` },
  { family: 'aws-secret-access-key', name: 'aws_secret_access_key', value: (r) => r.chars(B64, 40) },
  { family: 'gcp-api-key', name: 'google_maps_key', value: (r) => `AIza${r.chars(`${ALNUM}-_`, 35)}` },
  { family: 'azure-storage-account-key', name: 'azure_storage_connection', value: (r) => `DefaultEndpointsProtocol=https;AccountName=acmeprod;AccountKey=${r.chars(B64, 86)}==;EndpointSuffix=core.windows.net` },
  { family: 'digitalocean-personal-access-token', name: 'do_token', value: (r) => `dop_v1_${r.chars(HEX, 64)}` },
  { family: 'github-personal-access-token', name: 'github_token', value: (r) => `ghp_${r.chars(ALNUM, 36)}` },
  { family: 'github-fine-grained-pat', name: 'gh_pat', value: (r) => `github_pat_${r.chars(ALNUM, 22)}_${r.chars(ALNUM, 59)}` },
  { family: 'gitlab-personal-access-token', name: 'gitlab_token', value: (r) => `glpat-${r.chars(`${ALNUM}-_`, 20)}` },
  { family: 'npm-access-token', name: 'npm_token', value: (r) => `npm_${r.chars(ALNUM, 36)}` },
  { family: 'pypi-upload-token', name: 'pypi_token', value: (r) => `pypi-AgEIcHlwaS5vcmc${r.chars(B64URL, 70)}` },
  { family: 'docker-hub-personal-access-token', name: 'docker_pat', value: (r) => `dckr_pat_${r.chars(B64URL, 27)}` },
  { family: 'slack-bot-token', name: 'slack_bot_token', value: (r) => `xoxb-${r.chars(DIGITS, 12)}-${r.chars(DIGITS, 13)}-${r.chars(ALNUM, 24)}` },
  { family: 'slack-webhook-url', name: 'slack_webhook', value: (r) => `https://hooks.slack.com/services/T${r.chars(UPPER + DIGITS, 10)}/B${r.chars(UPPER + DIGITS, 10)}/${r.chars(ALNUM, 24)}` },
  { family: 'discord-webhook-url', name: 'discord_webhook', value: (r) => `https://discord.com/api/webhooks/${r.chars(DIGITS, 18)}/${r.chars(B64URL, 68)}` },
  { family: 'sendgrid-api-key', name: 'sendgrid_api_key', value: (r) => `SG.${r.chars(B64URL, 22)}.${r.chars(B64URL, 43)}` },
  { family: 'twilio-api-key', name: 'twilio_api_key', value: (r) => `SK${r.chars(HEX, 32)}` },
  { family: 'stripe-secret-key', name: 'stripe_secret_key', value: (r) => `sk_live_${r.chars(ALNUM, 99)}` },
  { family: 'shopify-access-token', name: 'shopify_token', value: (r) => `shpat_${r.chars(HEX, 32)}` },
  { family: 'openai-api-key', name: 'openai_api_key', value: (r) => `sk-proj-${r.chars(B64URL, 58)}T3BlbkFJ${r.chars(B64URL, 58)}` },
  { family: 'anthropic-api-key', name: 'anthropic_api_key', value: (r) => `sk-ant-api03-${r.chars(B64URL, 93)}AA` },
  { family: 'huggingface-token', name: 'hf_token', value: (r) => `hf_${r.chars(UPPER + LOWER, 34)}` },
  {
    family: 'jwt',
    name: 'auth_token',
    value: (r) =>
      `${b64url('{"alg":"HS256","typ":"JWT"}')}.${b64url(`{"sub":"${r.chars(DIGITS, 10)}","name":"svc","iat":${1700000000 + r.int(9999999)}}`)}.${r.chars(B64URL, 43)}`,
  },
  { family: 'database-uri', name: 'database_url', value: (r) => `postgres://app:${r.chars(ALNUM, 20)}@db.internal.acme.io:5432/orders` },
  { family: 'generic-password', name: 'db_password', value: (r) => `${r.chars(ALNUM, 6)}!${r.chars(ALNUM, 5)}#${r.chars(DIGITS, 3)}` },
];

/** Decoy values per kind; none of them is a secret. */
const DECOYS: { name: string; value: (r: Rng) => string }[] = [
  { name: 'db_password', value: () => '${DB_PASSWORD}' },
  { name: 'api_key', value: () => '<your-api-key>' },
  { name: 'auth_token', value: () => '{{ .Values.authToken }}' },
  { name: 'password', value: () => 'changeme' },
  { name: 'client_secret', value: () => 'xxxxxxxxxxxxxxxxxxxxxxxx' },
  { name: 'aws_access_key_id', value: () => 'AKIAIOSFODNN7EXAMPLE' },
  { name: 'aws_secret_access_key', value: () => 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
  { name: 'secret_token', value: () => '$SECRET_TOKEN' },
  { name: 'password', value: () => 'aaaaaaaa' },
  { name: 'checksum', value: (r) => r.chars(HEX, 64) },
  { name: 'commit', value: (r) => r.chars(HEX, 40) },
  { name: 'request_id', value: (r) => `${r.chars(HEX, 8)}-${r.chars(HEX, 4)}-4${r.chars(HEX, 3)}-a${r.chars(HEX, 3)}-${r.chars(HEX, 12)}` },
  { name: 'integrity', value: (r) => `sha512-${r.chars(B64, 86)}==` },
];

/** Rendering of `name = value` per file kind, plus filler lines. */
interface Kind {
  ext: string;
  dir: string;
  assign: (name: string, value: string) => string;
  /** A variable reference, the commonest non-secret assignment in real code. */
  reference: (name: string) => string;
  filler: (r: Rng) => string[];
  head?: string[];
  tail?: string[];
}

const camel = (name: string) => name.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
const WORDS = ['order', 'user', 'invoice', 'cart', 'payment', 'session', 'report', 'account', 'item', 'queue', 'cache', 'event', 'stock', 'price', 'tenant'];
const word = (r: Rng) => r.pick(WORDS);

const KINDS: Kind[] = [
  {
    ext: 'ts',
    dir: 'src/services',
    assign: (n, v) => `const ${camel(n)} = "${v}";`,
    reference: (n) => `const ${camel(n)} = process.env.${n.toUpperCase()} ?? '';`,
    filler: (r) => {
      const w = word(r);
      return [`export async function load${w[0]!.toUpperCase()}${w.slice(1)}(id: string): Promise<${w}Record | undefined> {`, `  const rows = await db.query('select * from ${w}s where id = $1', [id]);`, `  if (rows.length === 0) return undefined;`, `  return { id, total: rows[0].total * ${r.int(100)} };`, '}', ''];
    },
    head: ["import { db } from '../db.ts';", ''],
  },
  {
    ext: 'py',
    dir: 'app/handlers',
    assign: (n, v) => `${n.toUpperCase()} = "${v}"`,
    reference: (n) => `${n.toUpperCase()} = os.environ["${n.toUpperCase()}"]`,
    filler: (r) => {
      const w = word(r);
      return [`def handle_${w}(request, ${w}_id: int) -> dict:`, `    """Return the ${w} with its line items."""`, `    ${w} = ${w.toUpperCase()}_REPO.get(${w}_id)`, `    return {"id": ${w}_id, "count": len(${w}.items) + ${r.int(50)}}`, '', ''];
    },
    head: ['import os', 'import logging', ''],
  },
  {
    ext: 'go',
    dir: 'internal/api',
    assign: (n, v) => `const ${camel(n)} = "${v}"`,
    reference: (n) => `var ${camel(n)} = os.Getenv("${n.toUpperCase()}")`,
    filler: (r) => {
      const w = word(r);
      return [`func (s *Server) get${w[0]!.toUpperCase()}${w.slice(1)}(w http.ResponseWriter, req *http.Request) {`, `\tid := req.URL.Query().Get("id")`, `\tif id == "" {`, `\t\thttp.Error(w, "missing id", ${400 + r.int(20)})`, '\t\treturn', '\t}', '}', ''];
    },
    head: ['package api', '', 'import (', '\t"net/http"', '\t"os"', ')', ''],
  },
  {
    ext: 'java',
    dir: 'src/main/java/com/acme',
    assign: (n, v) => `    private static final String ${n.toUpperCase()} = "${v}";`,
    reference: (n) => `    private final String ${camel(n)} = System.getenv("${n.toUpperCase()}");`,
    filler: (r) => {
      const w = word(r);
      return [`    public ${w}Dto find${w}(long id) {`, `        return repository.findById(id).map(${w}Mapper::toDto).orElseThrow(() -> new NotFound(${r.int(1000)}));`, '    }', ''];
    },
    head: ['package com.acme;', '', 'public class Service {'],
    tail: ['}'],
  },
  {
    ext: 'yaml',
    dir: 'deploy/config',
    assign: (n, v) => `  ${n}: "${v}"`,
    reference: (n) => `  ${n}: \${${n.toUpperCase()}}`,
    filler: (r) => [`  ${word(r)}_workers: ${r.int(64)}`, `  ${word(r)}_timeout_seconds: ${r.int(600)}`, `  ${word(r)}_enabled: ${r.next() > 0.5}`],
    head: ['service:', '  name: orders'],
  },
  {
    ext: 'json',
    dir: 'config',
    assign: (n, v) => `  "${camel(n)}": "${v}",`,
    reference: (n) => `  "${camel(n)}": "\${${n.toUpperCase()}}",`,
    filler: (r) => [`  "${word(r)}Limit": ${r.int(10000)},`, `  "${word(r)}Name": "${word(r)}-${r.int(99)}",`],
    head: ['{'],
    tail: ['  "version": 1', '}'],
  },
  {
    ext: 'env',
    dir: 'services/worker',
    assign: (n, v) => `${n.toUpperCase()}=${v}`,
    reference: (n) => `${n.toUpperCase()}=\${${n.toUpperCase()}_FROM_VAULT}`,
    filler: (r) => [`${word(r).toUpperCase()}_POOL_SIZE=${r.int(32)}`, `LOG_LEVEL=${r.pick(['info', 'debug', 'warn'])}`],
  },
  {
    ext: 'Dockerfile',
    dir: 'docker',
    assign: (n, v) => `ENV ${n.toUpperCase()}=${v}`,
    reference: (n) => `ARG ${n.toUpperCase()}`,
    filler: (r) => [`RUN apt-get update && apt-get install -y --no-install-recommends ${r.pick(['curl', 'git', 'jq', 'make'])} && rm -rf /var/lib/apt/lists/*`, `COPY ${word(r)}/ /app/${word(r)}/`],
    head: ['FROM node:20-slim', 'WORKDIR /app'],
    tail: ['CMD ["node", "server.js"]'],
  },
  {
    ext: 'tf',
    dir: 'infra',
    assign: (n, v) => `  ${n} = "${v}"`,
    reference: (n) => `  ${n} = var.${n}`,
    filler: (r) => [`  ${word(r)}_count = ${r.int(10)}`, `  tags = { team = "${word(r)}" }`],
    head: ['resource "aws_instance" "app" {', '  ami           = "ami-0c55b159cbfafe1f0"', '  instance_type = "t3.micro"'],
    tail: ['}'],
  },
  {
    ext: 'properties',
    dir: 'src/main/resources',
    assign: (n, v) => `app.${n.replace(/_/g, '.')}=${v}`,
    reference: (n) => `app.${n.replace(/_/g, '.')}=\${${n.toUpperCase()}}`,
    filler: (r) => [`spring.${word(r)}.pool.max=${r.int(50)}`, `logging.level.com.acme.${word(r)}=INFO`],
  },
  {
    ext: 'ini',
    dir: 'etc',
    assign: (n, v) => `${n} = ${v}`,
    reference: (n) => `${n} = %(${n.toUpperCase()})s`,
    filler: (r) => [`[${word(r)}]`, `retries = ${r.int(9)}`, `host = ${word(r)}.internal`],
  },
  {
    ext: 'md',
    dir: 'docs',
    assign: (n, v) => `    export ${n.toUpperCase()}=${v}`,
    reference: (n) => `    export ${n.toUpperCase()}="$(vault read -field=value secret/${n})"`,
    filler: (r) => [`## ${word(r)} handling`, '', `The ${word(r)} service retries ${r.int(9)} times before giving up; see the runbook.`, ''],
  },
];

function fileName(kind: Kind, index: number, r: Rng): string {
  if (kind.ext === 'Dockerfile') return `${kind.dir}/${word(r)}-${index}/Dockerfile`;
  if (kind.ext === 'env') return `${kind.dir}/${word(r)}-${index}.env`;
  return `${kind.dir}/${word(r)}_${index}.${kind.ext}`;
}

function pemBlock(r: Rng): string[] {
  const body = Array.from({ length: 25 }, () => r.chars(B64, 64));
  return ['-----BEGIN RSA PRIVATE KEY-----', `MIIEpAIBAAKCAQEA${r.chars(B64, 48)}`, ...body, `${r.chars(B64, 40)}==`, '-----END RSA PRIVATE KEY-----'];
}

/**
 * Writes a corpus of about `bytes` bytes under `dir` (which should be empty). The
 * same seed always gives the same files, secrets and decoys.
 */
export async function generateCorpus(dir: string, bytes: number, seed = 1): Promise<Corpus> {
  const r = prng(seed);
  const files: { path: string; lines: string[] }[] = [];
  const planted: Planted[] = [];
  let decoys = 0;
  let total = 0;

  // Plan the files first, then place secrets and decoys into them.
  const fileTarget = Math.max(FAMILIES.length + 2, Math.round(bytes / 9000));
  for (let i = 0; total < bytes || files.length < fileTarget; i++) {
    const kind = KINDS[i % KINDS.length]!;
    const lines = [...(kind.head ?? [])];
    const size = 2000 + r.int(14000);
    let length = 0;
    while (length < size) {
      // About one credential-named variable reference per 20 filler blocks (roughly 1.5% of
      // lines): denser than most application code, so keyword pre-filtering is not flattered.
      const chunk = r.next() < 0.05 ? [kind.reference(r.pick(DECOYS).name)] : kind.filler(r);
      for (const l of chunk) length += l.length + 1;
      lines.push(...chunk);
    }
    lines.push(...(kind.tail ?? []));
    files.push({ path: fileName(kind, i, r), lines });
    total += length;
    if (total >= bytes && files.length >= fileTarget) break;
  }

  const insert = (fileIndex: number, line: string): number => {
    const file = files[fileIndex]!;
    const kind = KINDS[fileIndex % KINDS.length]!;
    const first = kind.head?.length ?? 0;
    const last = file.lines.length - (kind.tail?.length ?? 0);
    const at = first + r.int(Math.max(1, last - first));
    file.lines.splice(at, 0, line);
    // Earlier plants in this file below the insertion point move down a line.
    for (const p of planted) if (p.path === file.path && p.line > at) p.line++;
    return at + 1;
  };

  FAMILIES.forEach((family, i) => {
    const fileIndex = Math.floor((i * files.length) / FAMILIES.length);
    const kind = KINDS[fileIndex % KINDS.length]!;
    const line = insert(fileIndex, kind.assign(family.name, family.value(r)));
    planted.push({ family: family.family, path: files[fileIndex]!.path, line });
  });

  const pemPath = 'deploy/keys/deploy_key.pem';
  files.push({ path: pemPath, lines: pemBlock(r) });
  planted.push({ family: 'private-key', path: pemPath, line: 1 });

  const decoysWanted = Math.max(DECOYS.length, Math.round(bytes / 20000));
  for (let d = 0; d < decoysWanted; d++) {
    const fileIndex = r.int(files.length - 1);
    const kind = KINDS[fileIndex % KINDS.length]!;
    const decoy = DECOYS[d % DECOYS.length]!;
    insert(fileIndex, kind.assign(decoy.name, decoy.value(r)));
    decoys++;
  }

  for (const file of files) {
    const target = path.join(dir, file.path);
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, `${file.lines.join('\n')}\n`);
  }
  return { files: files.length, planted, decoys };
}

/** Every file under `dir` with its corpus-relative path (forward slashes), sorted by path. */
export async function readCorpusFiles(dir: string): Promise<{ path: string; text: string }[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files = await Promise.all(
    entries
      .filter((e) => e.isFile())
      .map(async (e) => {
        const full = path.join(e.parentPath, e.name);
        return { path: path.relative(dir, full).split(path.sep).join('/'), text: await readFile(full, 'utf8') };
      }),
  );
  return files.sort((a, b) => (a.path < b.path ? -1 : 1));
}
