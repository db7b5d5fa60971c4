import { SEVERITIES } from '../scan/types.ts';

const ENTITY_TYPE_LIST = 'project, repository, pullRequest, finding, component';

export const MAIN_HELP = `Usage: gatehouse <command> [options]

Security scanning for leaked secrets and vulnerable dependencies.

Commands:
  scan [PATH ...]     scan files and directories (or a diff) for secrets and vulnerable dependencies
  db update           download or refresh the OSV vulnerability database
  sbom PATH           write a CycloneDX 1.6 SBOM of the packages pinned under PATH
  pipelines report    inside Bitbucket Pipelines: scan and publish a Code Insights report
  simulate receive    sign and deliver one webhook payload to a running app, as Bitbucket would
  datacenter add      register a Bitbucket Data Center instance (also list, remove, rotate-secret)
  forge manifest      render the Forge app's manifest.yml from FORGE_APP_ID and BASE_URL
  inventory export    export a running server's asset inventory (JSON Lines or CSV) with an API token

Options:
  -h, --help          show help; "gatehouse <command> --help" for a command's options
  -v, --version       print the version

Environment:
  DATA_DIR            where the vulnerability database lives (default ./data)
  OSV_MIRROR_URL      where "db update" downloads OSV exports from
  NO_COLOR            turn off coloured output
`;

export const SCAN_HELP = `Usage: gatehouse scan [PATH ...] [options]
       gatehouse scan --staged | --since REF | --diff FILE [options]

Scans files and directories (default: the current directory) for secrets, and the
lockfiles among them for packages with known vulnerabilities, on every core. Repository
settings are read from .gatehouse.yml, .gitleaks.toml and .gitleaksignore in the scanned
directory (the repository's top level for --staged and --since, the current directory
for file arguments and --diff).

What to scan (one of):
  PATH ...             files and directories
  --staged             the lines staged for the next commit (for a pre-commit hook)
  --since REF          the lines HEAD adds since it branched from REF (for CI)
  --diff FILE          the lines a unified diff adds ("-" reads standard input)

Options:
  --format FORMAT      text (default), json, sarif, or cyclonedx (an SBOM of the
                       packages read, with their known vulnerabilities), on standard output
  --fail-on SEVERITY   exit with status 1 when a finding is at least this severe:
                       ${SEVERITIES.join(', ')} (default high)
  --baseline FILE      leave out the findings FILE accepts; only new ones are reported
  --update-baseline    record every current finding in the --baseline FILE (created if
                       missing) and exit 0
  -j, --jobs N         worker threads (default: one per core; a small scan uses none)
  -h, --help           show this help

Paths in the output are relative to the directory when one directory is scanned, as
given for files, and the new-file path (from the repository's top level) for diffs.

Fingerprints: each secret finding carries a fingerprint of its rule, path and secret.
Without a key it is a plain sha256 chain, so anyone who gets the output (a SARIF upload,
a CI log) can test guesses of a weak secret against it offline. Set
GATEHOUSE_FINGERPRINT_KEY to any private text to make fingerprints (and secret hashes)
HMACs under that key: stable for as long as the key stays the same, useless without it.
.gitleaksignore may list either form.

Exit status: 0 no finding at or above --fail-on, 1 at least one, 2 usage or input error.
`;

export const DB_HELP = `Usage: gatehouse db update [--ecosystems npm,PyPI,...]
       gatehouse db migrate

Downloads the OSV vulnerability database from OSV_MIRROR_URL into DATA_DIR, or refreshes
it with the records changed since the last update. The database in use stays in place
until the new one is complete, so the command is safe to interrupt.

Options:
  --ecosystems LIST   comma-separated OSV ecosystems (default: every one the lockfile
                      parsers support: npm, PyPI, Go, crates.io, RubyGems, Packagist, Maven)
  -h, --help          show this help

Exit status: 0 updated or already current, 1 the download failed (the previous
database stays in use), 2 usage or configuration error.

db migrate brings the PostgreSQL schema at DATABASE_URL up to date, as every server does
when it starts (under a lock, all pending migrations in one transaction). Exit status: 0
migrated or already current, 1 the database cannot be reached or its schema is newer than
this version, 2 usage error (DATABASE_URL not set).
`;

export const SBOM_HELP = `Usage: gatehouse sbom PATH [--output FILE]

Writes a CycloneDX 1.6 JSON SBOM of the packages pinned by the lockfiles under PATH
(a directory or a single lockfile), with purls and the dependency graph where the
lockfile records one.

Options:
  -o, --output FILE   write to FILE instead of standard output
  -h, --help          show this help
`;

export const PIPELINES_HELP = `Usage: gatehouse pipelines report [PATH ...] [--since REF] [options]

Inside a Bitbucket Pipelines step: scans the clone (default: the current directory), or
with --since REF what the branch adds since REF, and publishes the result as the Code
Insights report "gatehouse-security" with annotations on BITBUCKET_COMMIT of
BITBUCKET_WORKSPACE/BITBUCKET_REPO_SLUG, through the pipeline's proxy (no token needed).

Options:
  --since REF          scan only what HEAD adds since it branched from REF
  --fail-on SEVERITY   the report fails, and the step exits 1, when a finding is at least
                       this severe: ${SEVERITIES.join(', ')} (default high)
  --baseline FILE      leave out the findings FILE accepts (see "gatehouse scan --help")
  -j, --jobs N         worker threads (default: one per core)
  --proxy URL          the pipeline's proxy (default http://localhost:29418)
  --api URL            the API origin requested through it (default http://api.bitbucket.org)
  -h, --help           show this help

Exit status: 0 published and passed, 1 published and failed, 2 usage or input error,
or the report could not be published.
`;

export const DATACENTER_HELP = `Usage: gatehouse datacenter add --name NAME --base-url URL --token-file FILE
                                [--webhook-secret-file FILE] [--install-webhooks PROJECT[/REPO],...]
       gatehouse datacenter list
       gatehouse datacenter remove NAME
       gatehouse datacenter rotate-secret NAME [--webhook-secret-file FILE] [--grace-hours N]
                                [--install-webhooks PROJECT[/REPO],...]

Registers Bitbucket Data Center instances with the Gatehouse server that uses the same
DATA_DIR and ENCRYPTION_KEY (and BASE_URL, from which webhook URLs are built). Works while
the server runs; the server sees the change with its next request.

add            checks the HTTP access token against the instance (it must be accepted and
               able to read repositories), stores the instance with its token and webhook
               secret encrypted, and prints one JSON line: instanceId, webhookUrl and, when
               it generated one, webhookSecret (shown this once). Adding a name again with the
               same base URL replaces its token and keeps its id and secret.
list           prints a JSON array of the instances (no token, no secret).
remove         forgets the instance; its webhooks then answer 404.
rotate-secret  generates (or reads) a new webhook secret and prints it; the old one is still
               accepted for --grace-hours (default 24) while Bitbucket is updated.

Options:
  --token-file FILE            the HTTP access token (project, repository or personal token)
  --webhook-secret-file FILE   the webhook secret to use instead of a generated one
  --install-webhooks LIST      create or update the Gatehouse webhook on these projects or
                               repositories (needs Project admin or Repository admin)
  --grace-hours N              how long the replaced secret stays valid (0 to 720)
  -h, --help                   show this help

A trailing newline in a file given above is ignored. The token is never printed.
Exit status: 0 done, 1 the instance refused or could not be reached (a token that fails
its check is never stored), 2 usage or input error.
`;

export const FORGE_HELP = `Usage: gatehouse forge manifest [--output FILE]

Renders the Forge app's manifest.yml (Forge Remote: this server is the app's remote) from
FORGE_APP_ID (the app ARI from \`forge register\`) and BASE_URL (the public https URL of this
server), checks it, and writes it to forge/manifest.yml beside the Custom UI resources, or to
FILE (resource paths are then written relative to FILE). Then \`forge deploy\` and
\`forge install\` from that directory.

Options:
  --output FILE   where to write the manifest (default: forge/manifest.yml in this package)
  -h, --help      show this help

Exit status: 0 written, 2 a variable missing or invalid, or a check failed (message on stderr).
`;

export const INVENTORY_HELP = `Usage: gatehouse inventory export --url URL --token-file FILE [--format jsonl|csv]
                                [--type TYPE[,TYPE]] [--mapping FILE] [--output FILE]

Exports the asset inventory (projects, repositories, open pull requests, findings,
components; docs/inventory.md) of the installation an API token belongs to, from a running
Gatehouse server, as JSON Lines (one entity per line) or CSV.

Options:
  --url URL          the server's public URL (BASE_URL)
  --token-file FILE  an API token (ghtok_...) created on the settings page
  --format F         jsonl (default) or csv
  --type T[,T]       only these entity types: ${ENTITY_TYPE_LIST}; CSV without --mapping takes one
  --mapping FILE     shape the rows with this mapping (YAML or JSON; docs/inventory.md); without
                     it, the mapping stored on the server (PUT /api/inventory/mapping) applies
  --output FILE      write here (only once the export is complete) instead of stdout
  -h, --help         show this help

Exit status: 0 exported, 2 usage or input error (a mapping error names its line and column),
3 the server refused the request (token revoked, bad filter), 4 the server could not be
reached, failed, or the export broke off.
`;
