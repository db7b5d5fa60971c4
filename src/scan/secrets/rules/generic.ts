// Generic credential assignments: a secret-sounding name with a literal value, in the
// syntax of JSON, YAML, code, .env / INI / properties / shell, Dockerfiles, Terraform and
// XML, plus bearer and basic auth headers, credentials in URLs and on command lines (curl's
// -u and -H included).
//
// These rules have no token format to lean on, so each one is split by syntax (every
// regex stays linear and anchored on a quote, a line start or a name boundary) and
// values must pass entropy, stop-word and identifier checks. Ids start with `generic-`:
// the engine drops a generic finding when a specific rule reports the same secret.
import type { SecretRule } from '../rule.ts';

/** Literals that pre-filter the generic rules; every secret-sounding name contains one. */
const KEYWORDS = ['pass', 'pwd', 'secret', 'token', 'api_key', 'apikey', 'api-key', 'access_key', 'accesskey', 'access-key', 'private_key', 'privatekey', 'auth_key', 'authkey', 'credential'];

/** The word that makes a name secret-sounding (compile with the `i` flag). */
const SECRET_WORD =
  '(?:passw(?:or)?d|pass|pwd|secret|token|api[_.\\-]?key|access[_.\\-]?key|private[_.\\-]?key|auth[_.\\-]?(?:key|token)|client[_.\\-]?secret|credentials?)';
/**
 * What may follow it in the same name. Deliberately short: `secretName`, `tokenUrl`,
 * `password_file` or `api_key_id` name something that is not itself a secret.
 */
const SUFFIX = '(?:[_.\\-]?(?:key|token|secret|value|base|string|str|pass(?:word)?|pwd)){0,2}';
const NAME = `[A-Za-z0-9_.\\-]{0,40}?${SECRET_WORD}${SUFFIX}`;

/** A quoted literal: no whitespace, quotes, escapes, interpolation or template markup. */
const VALUE = '[^\\s\'"`\\\\$<>{}()]{8,200}';
/** An unquoted literal as in .env, INI and properties files. */
const BARE_VALUE = '[^\\s\'"`\\\\$;#(){}\\[\\]<>,|&]{8,200}';

/** Values that are code or configuration, not secrets. */
const NOT_A_SECRET = [
  '^[a-z][a-z0-9]*(?:[_.\\-][a-z0-9]+)+$', // snake_case, kebab-case, dotted.words: x-aws-ec2-metadata-token
  '^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$', // CONSTANT_NAMES
  '^[a-z]{2,}(?:[A-Z][a-z]{2,})+[0-9]?$', // camelCase identifiers (whole words, so random mixed case is not one)
  '^[?!@#:.]?(?:[A-Z][a-z]+){2,}[0-9]?$', // PascalCase names: `credentials: InstallationCredentials`
  '^[A-Za-z_][A-Za-z0-9_]*(?:\\.[A-Za-z_][A-Za-z0-9_]*)+$', // member access: config.secret, var.db_password
  '^(?:https?|ftp|file|s3|gs)://', // URLs; credentials inside them have their own rule
  '^(?:/|\\./|\\.\\./|~/)', // file paths
  '\\.(?:pem|key|crt|cer|der|p12|pfx|jks|json|ya?ml|txt|env|conf|cfg|ini|properties)$', // key and config file names
  '^[0-9]+$',
  '^--', // CSS custom properties and command-line flags
  '^#\\{[^}]*\\}#?$', // Octopus / Azure DevOps token substitution: #{ApiKey}#
  '^%[A-Za-z_][A-Za-z0-9_]*%$', // Windows %VAR%
  '^@Microsoft\\.KeyVault\\(', // Azure App Service Key Vault reference
  '^(?:env|vault|secret|secrets|ssm|sm|awssm|azkv|gcpsm|ref|op|file)://?', // secret-manager references: op://vault/item, vault:secret/data/x
  '^arn:aws[a-z\\-]*:(?:secretsmanager|ssm|kms):', // AWS ARNs name a secret, they do not hold one
  '^ENC\\[', // SOPS / eyaml encrypted values
  '^\\*{3,}', // masked: ********
];
const STOPWORDS = [
  'example', 'sample', 'dummy', 'placeholder', 'changeme', 'change_me', 'change-me', 'your_', 'your-', 'yourpass', 'yoursecret',
  'yourtoken', 'xxxx', 'redacted', 'replace', 'insert', 'todo', 'fixme', 'fake', 'mock', 'notreal', 'not_real', 'not-real',
  'lorem', 'foobar', 'test', 'password', 'passw0rd', 'p@ssw0rd', 'hunter2', 'letmein', 'qwerty', '12345678', 'abcdefgh', 'default',
  // Telegram's documented sample bot token.
  'abc-def1234ghikl',
];
const ALLOW = { secrets: NOT_A_SECRET, stopwords: STOPWORDS };
const ENTROPY = 3;

export const GENERIC_RULES: readonly SecretRule[] = [
  {
    id: 'generic-secret-json',
    description: 'Secret-named key with a literal value in JSON, a Python dict, a PHP/Ruby hash or a setter call',
    severity: 'medium',
    keywords: KEYWORDS,
    // `,` covers calls: System.setProperty("db.password", "..."), put("token", "...").
    regex: `(\\\\?["'])(${NAME})\\1[ \\t]{0,3}(?::|=>|,)[ \\t]{0,3}(\\\\?["'])(${VALUE})\\3`,
    flags: 'i',
    secretGroup: 4,
    entropy: ENTROPY,
    allowlist: ALLOW,
    examples: {
      truePositives: [
        '  "password": "iL2th9nY!586",',
        "config = {'api_key': 'VLIscK1ke07M1YYkRDxKSK531zyN2RMW'}",
        "  'client_secret' => 'xWKD7fS7NscXYQyVamumn_bADUC2YuMfQ3Qspqpp',",
        'System.setProperty("db.password", "Qm7vT2xR9kLp");',
        '"{\\"auth_token\\": \\"r8Kx2Vq9TzLm4Wb7Nc1Y\\"}"',
      ],
      falsePositives: [
        '  "password": "${DB_PASSWORD}",',
        '  "passwordLabel": "Enter your password",',
        '  "token": "YOUR_API_TOKEN",',
        '  "secretName": "db-credentials",',
        '  "password": "changeme123",',
        '  "token_type": "Bearer",',
        'System.setProperty("db.password", System.getenv("DB_PASSWORD"));',
        'labels = ["password", "username"]',
      ],
    },
  },
  {
    id: 'generic-secret-yaml',
    description: 'Secret-named key with an unquoted literal value in YAML',
    severity: 'medium',
    keywords: KEYWORDS,
    // The value must end the line (bar a comment): `name: Type,` or `name: value;` is code.
    // A block scalar (`key: |` or `key: >`) puts the value on the next line. A `#` inside
    // the value is part of it; only one after whitespace starts a comment.
    regex: `^[ \\t]{0,40}(?:-[ \\t]{1,4})?(${NAME})[ \\t]{0,3}:(?:[ \\t]{1,5}|[ \\t]{1,3}[|>][-+]?[ \\t]{0,3}\\r?\\n[ \\t]{1,40})([^\\s'"\`\\\\$<>{}()\\[\\]|&*!#,;][^\\s'"\`\\\\$<>{}()\\[\\],;]{7,199})[ \\t]{0,5}(?:#[^\\n]{0,300})?$`,
    flags: 'im',
    secretGroup: 2,
    window: { before: 0, after: 1 },
    entropy: ENTROPY,
    allowlist: ALLOW,
    examples: {
      truePositives: ['  password: BymuEJGgWptH', 'deploy_token: |\n  Vx8qL2mT9rKz4WbN', '    password: k#NyAgWuhiuDK*5@', '    client_secret: OOfjU5Yu2ZgMva8LJrQpXgnRlcWDccov  # rotated quarterly', '- api_key: XmhRUGVqTEr05A655Ac9J34f'],
      falsePositives: [
        '  password: ${DB_PASSWORD}',
        '  password: !vault |',
        '  password: |\n    $ANSIBLE_VAULT;1.1;AES256',
        '  secretName: db-credentials',
        '  tokenUrl: https://auth.acme.io/oauth/token',
        '  credentials: InstallationCredentials;',
        '  password: KDFInput,',
        '  cancellationToken: this[kCancellationToken]',
      ],
    },
  },
  {
    id: 'generic-secret-quoted-key-value',
    description: 'Secret-named key with a quoted literal value in YAML, a JavaScript object literal or a flow mapping',
    severity: 'medium',
    keywords: KEYWORDS,
    regex: `(?<![A-Za-z0-9_.\\-])(${NAME})[ \\t]{0,3}:[ \\t]{1,5}(["'\`])(${VALUE})\\2`,
    flags: 'i',
    secretGroup: 3,
    entropy: ENTROPY,
    allowlist: ALLOW,
    examples: {
      truePositives: ['    client_secret: "OwDT3MWXMoOZzU5-B8x7E3cqkklAdZAn"', "  apiKey: 'hxviiJR9whm56KjTtLzrYaIF', // issued 2026-01", 'const cfg = { password: "tMwexkGGlL!02" };'],
      falsePositives: [
        '  password: "{{ .Values.db.password }}"',
        '  token: process.env.API_TOKEN,',
        '  "password": "TtdGVdOyzEG2",',
        '  password: str = "NY0sZ27cyOmw"',
        "  token: '<paste token here>'",
      ],
    },
  },
  {
    id: 'generic-secret-assignment',
    description: 'Secret-named variable assigned a quoted literal (code, Terraform, shell, .env, INI, XML attributes)',
    severity: 'medium',
    keywords: KEYWORDS,
    // An optional type: `token: string =` (TypeScript, Kotlin) or `token string =` (Go).
    regex: `(?<![A-Za-z0-9_.\\-])(${NAME})(?:[ \\t]{0,3}:[ \\t]{0,3}[A-Za-z][A-Za-z0-9_<>\\[\\]?]{0,30}|[ \\t]{1,3}[A-Za-z][A-Za-z0-9_.<>\\[\\]*]{0,30})?[ \\t]{0,3}(?::{1,3}=|\\?\\??=|\\|\\|=|[+.]=|=)[ \\t]{0,3}(?:[rbuf]{1,2}|@)?(["'\`])(${VALUE})\\2`,
    flags: 'i',
    secretGroup: 3,
    entropy: ENTROPY,
    allowlist: ALLOW,
    examples: {
      truePositives: [
        'const apiKey = "dPqFPyQ2lhGMGSHIEVUSKVl87hRPsdNl";',
        "self.secret = 'GfF4PPTBBmC2Q0emdKCiF7XlRRi8J41Xe6HhUK2z'",
        '  password = "N8u8jHpSbh#76"',
        'export GITEA_RUNNER_TOKEN="GM4SvIGTOh6jdFIX1LMXRjEnWy0IfMWxHjcYDJG6"',
        'dbPassword := "mmhyAs0dhdgfc9l8"',
        'admin_password = "Q2FpzvlZ4Mcw0X"   # terraform.tfvars',
        'DEPLOY_TOKEN ::= "Jq7xV2mR9tLk4WzB"',
        'DEPLOY_TOKEN :::= "Jq7xV2mR9tLk4WzB"',
        '$apiToken .= "Hn3kW8qZ5vTx2LmR";',
        'var apiToken string = "Tq4nW9xR2vLm7KzB"',
        'val signingSecret: String = "ttxvtoUGYo71CnNwQKMf1YDQj1iQk9LiMBaGKKYReLJ6"',
      ],
      falsePositives: [
        'password = os.environ["DB_PASSWORD"]',
        'const apiKey = process.env.API_KEY;',
        'if (password == "tqMvR9u6r7hq") {',
        'token = f"{prefix}-{suffix}"',
        'password = "<your password>"',
        'secret_name = "prod-db-credentials"',
        'api_key = "#{ApiKey}#"',
        'password = "%DB_PASSWORD%"',
        'client_secret = "op://Deploy/github-app/client-secret"',
        'db_password = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf"',
      ],
    },
  },
  {
    id: 'generic-secret-assignment-unquoted',
    description: 'Secret-named setting with an unquoted literal value (.env, INI, properties, shell, Dockerfile ARG/ENV)',
    severity: 'medium',
    keywords: KEYWORDS,
    // A member assignment (`self.token = nextchar` in Python, `this.key = value`) is code in
    // every language, never a settings file: its unquoted value names a variable.
    regex: `^[ \\t]{0,20}(?!(?:self|this|cls)\\.)(?:export[ \\t]{1,5}|(?:ENV|ARG)[ \\t]{1,5}|setx?[ \\t]{1,5})?(${NAME})[ \\t]{0,3}(?::{1,3}=|[?+]=|=)[ \\t]{0,3}(${BARE_VALUE})[ \\t]{0,5}(?:#[^\\n]{0,300})?$`,
    flags: 'im',
    secretGroup: 2,
    entropy: ENTROPY,
    allowlist: ALLOW,
    examples: {
      truePositives: ['DB_PASSWORD=vPsEgsfbffTaOh', 'spring.datasource.password=d8TbKSSlsn8g', 'export API_TOKEN=Bf-Fj_n0OVnsDE4SM1LpB7c4HLxwNTZC', 'ARG NPM_AUTH_TOKEN=QArF3Imsa1W2XSKkDRit51sdsRPxA4S8WcW0', 'password = KMWbAotyha%165  # [database] section of an INI file', 'DEPLOY_TOKEN ::= Rz4nW7qK2xLv9TbM'],
      falsePositives: [
        'DB_PASSWORD=${DB_PASSWORD}',
        'password = get_password()',
        'token = self.token_provider.current',
        'API_KEY=',
        'SECRET_KEY_BASE=$(openssl rand -hex 64)',
        'password = user_supplied_password',
        'password = password',
        'this.credentials = credentials || this.defaultCredentials()',
        '                    self.token = nextchar',
        '        self.credentials = credentials',
        'this.apiToken = providedToken',
        '_credentials = credentials;',
      ],
    },
  },
  {
    id: 'generic-secret-dockerfile-env',
    description: 'Secret-named environment variable baked into a Dockerfile with ENV NAME value',
    severity: 'medium',
    keywords: ['env '],
    regex: `^[ \\t]{0,8}ENV[ \\t]{1,5}([A-Z0-9_]{0,40}?(?:PASSWORD|PASSWD|PASS|PWD|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY)(?:_(?:KEY|TOKEN|VALUE|BASE)){0,2})[ \\t]{1,5}(["']?)(${BARE_VALUE})\\2[ \\t]*$`,
    flags: 'm',
    secretGroup: 3,
    entropy: ENTROPY,
    allowlist: ALLOW,
    examples: {
      truePositives: ['ENV POSTGRES_PASSWORD MDjiddQR3AGiKw5B', 'ENV SENTRY_AUTH_SECRET "HG7tRy0su2FzLhGKvWoI8rBw"'],
      falsePositives: ['ENV POSTGRES_PASSWORD_FILE /run/secrets/db', 'ENV API_TOKEN ${API_TOKEN}', 'ENV NODE_ENV production'],
    },
  },
  {
    id: 'generic-secret-xml-element',
    description: 'Secret-named XML element with a literal value (Maven settings, .NET and Java configs)',
    severity: 'medium',
    keywords: KEYWORDS,
    // The value may sit on its own line between the tags.
    regex: `<((?:[A-Za-z0-9_\\-]{1,30}:)?${NAME})(?:[ \\t][^<>]{0,200})?>[ \\t]{0,3}(?:\\r?\\n[ \\t]{0,60})?([^<>\\s{}$]{8,200})[ \\t]{0,3}(?:\\r?\\n[ \\t]{0,60})?</\\1>`,
    flags: 'i',
    secretGroup: 2,
    window: { before: 0, after: 2 },
    entropy: ENTROPY,
    allowlist: ALLOW,
    examples: {
      truePositives: ['      <password>36Qj7Wjt0QKgzVnv</password>', '<ApiKey>JFnHDQkwrjX3QfgIs4VqN6kpVXnqwUDU</ApiKey>', '<password>\n    Wq8mZ3xT7kRv2LnB\n</password>'],
      falsePositives: ['      <password>${env.DEPLOY_PASSWORD}</password>', '      <password>{COQLCE6DU6GtcS5P=}</password>', '<passwordPolicy>strict-rotation</passwordPolicy>'],
    },
  },
  {
    id: 'generic-secret-xml-key-value',
    description: 'Secret-named key/value pair in an XML config such as .NET appSettings',
    severity: 'medium',
    keywords: KEYWORDS,
    regex: `\\b(?:key|name)=(["'])(${NAME})\\1[ \\t]{1,5}value=(["'])(${VALUE})\\3`,
    flags: 'i',
    secretGroup: 4,
    entropy: ENTROPY,
    allowlist: ALLOW,
    examples: {
      truePositives: ['<add key="StripeSecret" value="79z3ZWCRLp5TWJ7iOBHkSOY2ZfUXmk3H" />', '<add key="Api.Token" value="UMWh0YZXLRwJQJ9e2uRtdBLCEb27EJIexPldRbcB"/>'],
      falsePositives: ['<add key="TokenLifetime" value="3600" />', '<add key="ApiKey" value="#{ApiKey}#" />'],
    },
  },
  {
    id: 'generic-bearer-token',
    description: 'Bearer token written out in an Authorization header or a request',
    severity: 'medium',
    keywords: ['bearer'],
    regex: '\\b[Bb]earer[ \\t]{1,3}([A-Za-z0-9_\\-.~+/]{20,2000}={0,2})(?![A-Za-z0-9_\\-.~+/=])',
    secretGroup: 1,
    entropy: 3.5,
    allowlist: ALLOW,
    examples: {
      truePositives: ['curl -H "Authorization: Bearer ENtFJ5AIK5Zd1cyXb0Tx1MZ7Ox2aQ3BOHDMW3JSY" https://api.acme.io/v1/me', "headers: { Authorization: 'Bearer 1Wh7euNOR4nw-nuDw1PeMXr6DI0qYk5tK-PSdHOJMVZK5RdyIT2gDod7VVe5cJZe' }"],
      falsePositives: ['-H "Authorization: Bearer ${API_TOKEN}"', "headers: { Authorization: 'Bearer ' + token }", 'Authorization: Bearer <access_token>', 'Authorization: Bearer YOUR_ACCESS_TOKEN_HERE'],
    },
  },
  {
    id: 'generic-basic-auth-header',
    description: 'HTTP Basic credentials (base64 user:password) written out in an Authorization header',
    severity: 'medium',
    keywords: ['authorization'],
    regex: 'authorization[\'"]?[ \\t]{0,3}[:=,][ \\t]{0,3}[\'"]?basic[ \\t]{1,3}([A-Za-z0-9+/]{12,400}={0,2})(?![A-Za-z0-9+/=])',
    flags: 'i',
    secretGroup: 1,
    entropy: 3.5,
    // base64 of "user:pass...", "username:password" and "Aladdin:open sesame" (RFC 7617's example).
    allowlist: { secrets: [...NOT_A_SECRET, '^dXNlcjpwYXNz', '^dXNlcm5hbWU6cGFzc3dvcmQ', '^QWxhZGRpbjpvcGVuIHNlc2FtZQ'], stopwords: STOPWORDS },
    examples: {
      truePositives: ['curl -H "Authorization: Basic QpR5dCwcwBvHaVmWhWndkB24ByKKB3dide82uxRW" https://registry.acme.io', "'Authorization': 'Basic VtJwSawIHHeeF1KWb/vQ9ZLOT2AP=='"],
      falsePositives: ['-H "Authorization: Basic $(echo -n user:pass | base64)"', 'Authorization: Basic <base64 credentials>', 'Authorization: Basic dXNlcjpwYXNzd29yZA==', 'Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=='],
    },
  },
  {
    id: 'generic-url-credentials',
    description: 'Password embedded in a URL (user:password@host)',
    severity: 'medium',
    keywords: ['://'],
    regex: '\\b[a-z][a-z0-9+.\\-]{1,20}://[^\\s:@/?#\'"`<>{}]{1,128}:([^\\s:@/?#\'"`<>{}$]{3,256})@[A-Za-z0-9.\\-]{1,253}',
    flags: 'i',
    secretGroup: 1,
    entropy: 2.5,
    allowlist: {
      secrets: ['^(?:password|passwd|pass|pwd|secret|postgres|root|admin|guest|test|mysql|redis|user|dbpass|changeme)$', '^\\*+$'],
      stopwords: ['password', 'passwd', 'secret', 'example', 'changeme', 'foobar', 'xxx', 'your'],
    },
    examples: {
      truePositives: ['git remote add origin https://deploy:fV0tNvtlprCBBcSE4VI8@git.acme.io/app.git', 'LDAP_URL=ldaps://cn=svc:SH8rLiRVFNwUulNh@ldap.acme.io:636', 'proxy = "http://squid:uTSIIawhguPK@10.0.0.1:3128"'],
      falsePositives: ['https://user:password@host.example.com/', 'postgres://postgres:postgres@localhost/app', 'http://admin:${ADMIN_PASSWORD}@localhost:8080', 'git clone https://{username}:{app_password}@bitbucket.org/{workspace}/{repo}.git'],
    },
  },
  {
    id: 'generic-cli-secret-flag',
    description: 'Password or token passed literally as a command-line flag',
    severity: 'medium',
    keywords: ['--pass', '--token', '--api', '--secret', '--client', '--auth', '--access'],
    regex: '(?<![A-Za-z0-9_\\-])--(?:password|passwd|pass|token|api[_\\-]?key|secret|client[_\\-]secret|auth[_\\-]token|access[_\\-]token)(?:=|[ \\t]{1,3})(["\']?)([^\\s\'"`\\\\$<>{}()]{8,200})\\1(?=[\\s;|&]|$)',
    secretGroup: 2,
    entropy: ENTROPY,
    allowlist: ALLOW,
    examples: {
      truePositives: ['helm repo add acme https://charts.acme.io --username ci --password Ft2MCoqVEpTSBLP0vYDV', 'vault login --token=D-WWp2Z6ooyBdvC1Yj-1Hef7j0sF', 'gh-release --api-key "qus4aqolBzHemudw5ilbsP4T9nJDYtlD" --tag v1'],
      falsePositives: ['docker login --password-stdin < pw.txt', 'vault login --token=$VAULT_TOKEN', 'mytool --token <token>', 'mytool --password "$(cat /run/secrets/pw)"'],
    },
  },
  {
    id: 'generic-curl-user-password',
    description: 'Password passed to curl with -u / --user user:password',
    severity: 'medium',
    keywords: ['curl'],
    // The flag may sit on a continuation line of the command (`\` line ends), so the rule
    // sees a few lines after the `curl` keyword. The secret is the password part.
    regex: `(?<![\\w\\-])(?:-u|--user)(?:=|[ \\t]{1,5})(?:"[^"\\s:]{0,100}:|'[^'\\s:]{0,100}:|["']?[\\w$@.\\-{}]{1,100}["']?:["']?)([^\\s'"]{3,100})["']?(?=\\s|$)`,
    secretGroup: 1,
    window: { before: 0, after: 5 },
    entropy: 2,
    allowlist: {
      secrets: [
        '^(?:change(?:it|me)|pass(?:word|wd)?|pwd|secret|test|token|api[_-]?key|x+|y+|\\*+|\\.{3,})$',
        '^\\$', // $PASSWORD, ${PASS}, $(cat pw.txt)
        '^\\[[^\\]]*\\]$', // [PASSWORD]
        '^<[^>]*>?$', // <password>
        '^\\{\\{', // {{ .Values.password }}
      ],
    },
    examples: {
      truePositives: [
        'curl --cacert ca.crt -u elastic:Vt8kQ2mZx9 https://localhost:9200',
        "curl -k -X POST https://svc:11222/rest \\\n  -H 'Content-type: text/plain' \\\n  -u developer:yqDVtkqPECriaLRi",
        "curl -s --user 'api:d7LkW48zRx!t' https://api.mailgun.net/v3/messages",
        'curl -s -v --user "j.smith:dB2yF6@qL9vZm1P#4J" "https://api.acme.io/user/me"',
      ],
      falsePositives: [
        "curl -i -u 'test:test'",
        '   curl -sL --user "$1:$2" "$3" > "$4"',
        'curl -u <user:password> https://acme.io/endpoint',
        'curl --user neo4j:[PASSWORD] http://[IP]:7474/db/data/',
        'curl -u "${_username}:${_password}"',
        'curl -X POST --user "$(cat ./login.txt):$(cat ./password.txt)"',
        'curl -XGET -i -u "${{ env.ELK_ID }}:${{ env.ELK_PASS }}"',
      ],
    },
  },
  {
    id: 'generic-curl-auth-header',
    description: 'Credential passed to curl in an Authorization, token or API-key header',
    severity: 'medium',
    keywords: ['curl'],
    regex: `(?:-H|--header)(?:=|[ \\t]{1,5})(["'])(?:Authorization:[ \\t]{0,5}(?:(?:Basic|Bearer|Token|Api-Token)[ \\t]{1,3})?|(?:X-(?:[A-Za-z]{1,20}-){0,2})?(?:Api-?)?(?:Key|Token):[ \\t]{0,5})([A-Za-z0-9=~@.+/_\\-]{8,2000})\\1`,
    flags: 'i',
    secretGroup: 2,
    window: { before: 0, after: 5 },
    entropy: 2.75,
    allowlist: { secrets: ['^(?:x+|X+|\\.+)$', '^(?:bearer|basic|token)$'], stopwords: ['your', 'example', 'placeholder', 'xxxx'] },
    examples: {
      truePositives: [
        "curl -H 'Authorization: Api-Token 5c1e9a7f3b2d8e4a6f0c9b7d1e3a5f8c2b4d6e0a' https://api.acme.io",
        'curl -X GET "https://api.acme.io/v4/stats" \\\n     -H "apikey: 7b3e1f9a-2c6d-4e8b-a0f5-d9c2e7b41a63"',
        'curl -H "Authorization: Token 8f2c9a71e4b03d56c1a7e9f24b8d3c05a6e1f7b9" https://api.acme.io/use/635',
        'curl -X GET https://octopus.acme.io/\n     -H "X-Octopus-ApiKey: 3a16750d-d363-41a4-8ebd-035408f7730f"',
      ],
      falsePositives: [
        'curl https://acme.io/micropub -H "Authorization: Bearer XXXXXXXXXXXX"',
        'curl -X POST https://acme.io/token --header "Authorization: Basic ..."',
        'curl -H "Authorization: Bearer $API_KEY" https://api.acme.io',
        'curl -H "Content-Type: application/json" -H "Accept: application/json" https://api.acme.io',
      ],
    },
  },
];
