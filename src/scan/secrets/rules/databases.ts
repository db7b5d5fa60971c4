// Databases and data platforms: connection URIs and strings with passwords (PostgreSQL,
// MySQL/MariaDB, MongoDB, Redis, AMQP, SQL Server, JDBC, ADO.NET), Supabase, PlanetScale,
// Databricks, Neon, Firebase, Fauna, InfluxDB.
import type { SecretRule } from '../rule.ts';
import { assignedTo, prefixed } from './build.ts';

/** Passwords so common in local setups and docs that reporting them is noise. */
const DEFAULT_PASSWORDS = '^(?:password|passwd|pass|pwd|secret|postgres|root|admin|guest|test|mysql|redis|user|dbpass|changeme)$';

/** Words that mark a documentation password: `secretpassword`, `foobared`, `your-password`. */
const URI_STOPWORDS = ['password', 'passwd', 'secret', 'example', 'changeme', 'foobar', 'your', 'xxx'];

/**
 * `scheme://user:password@host`; group 1 is the password. The user may be empty
 * (`redis://:password@host`). Characters that end a URL in code or config end the match.
 */
function uri(id: string, schemes: string, keywords: string[], what: string, examples: SecretRule['examples']): SecretRule {
  return {
    id,
    description: `${what} connection URI with a password`,
    severity: 'high',
    keywords,
    regex: `\\b(?:${schemes})://[^\\s:@/?#'"\`<>]{0,128}:([^\\s@/?#'"\`<>]{1,256})@[^\\s/?#'"\`<>@]{1,256}`,
    flags: 'i',
    secretGroup: 1,
    allowlist: { secrets: [DEFAULT_PASSWORDS, '^\\*+$'], stopwords: URI_STOPWORDS },
    examples,
  };
}

export const DATABASE_RULES: readonly SecretRule[] = [
  uri('postgres-connection-uri', 'postgres(?:ql)?(?:\\+[a-z0-9]{1,20})?', ['postgres'], 'PostgreSQL', {
    truePositives: ['DATABASE_URL=postgres://app:fAEpF4rAsdi1pn876m5E@db.internal:5432/app', 'url = "jdbc:postgresql://svc_report:fM4wAMqOgxeMGmzh@10.0.3.7/reports"', 'SQLALCHEMY_DATABASE_URI=postgresql+psycopg2://app:NOqVyS5QoQvbm7vhCF@pg.acme.io/app'],
    falsePositives: ['DATABASE_URL=postgres://postgres:postgres@localhost:5432/app', 'DATABASE_URL=postgres://app:${DB_PASSWORD}@db:5432/app', 'DATABASE_URL=postgres://db.internal:5432/app'],
  }),
  uri('mysql-connection-uri', 'mysqlx?(?:\\+[a-z0-9]{1,20})?|mariadb', ['mysql', 'mariadb'], 'MySQL or MariaDB', {
    truePositives: ['DATABASE_URL=mysql://app:deDaWJIw8DORQos7yhVE@mysql.internal:3306/shop', 'engine = create_engine("mysql+pymysql://etl:OsKipjEHhgaQkt6e@10.1.2.3/warehouse")'],
    falsePositives: ['DATABASE_URL=mysql://root:root@127.0.0.1:3306/test', 'DATABASE_URL=mysql://user:<password>@host/db'],
  }),
  uri('mongodb-connection-uri', 'mongodb(?:\\+srv)?', ['mongodb'], 'MongoDB', {
    truePositives: ['MONGO_URI=mongodb+srv://api:976ueOplyqjZw1ZUmPEVa5XX@cluster0.ab1cd.mongodb.net/prod?retryWrites=true', 'mongodb://admin:34gB19vmXOxrm13Muc@mongo-0.mongo,mongo-1.mongo:27017/?replicaSet=rs0'],
    falsePositives: ['MONGO_URI=mongodb://localhost:27017/app', 'MONGO_URI=mongodb+srv://<username>:<password>@cluster0.mongodb.net/'],
  }),
  uri('redis-connection-uri', 'rediss?', ['redis'], 'Redis', {
    truePositives: ['REDIS_URL=redis://:3AiImiO4ieHnGeu6iFwN5Gq4azv2K70L@redis.internal:6379/0', 'REDIS_URL=rediss://default:IHRb4NMFqMfJTgGx4BD5pxcaMrCIq66c@eu1-lasting-cat-31012.upstash.io:31012'],
    falsePositives: ['REDIS_URL=redis://localhost:6379/0', 'REDIS_URL=redis://:${REDIS_PASSWORD}@redis:6379', 'redis://alice:foobared@awesome.redis.server:6380'],
  }),
  uri('amqp-connection-uri', 'amqps?', ['amqp'], 'AMQP (RabbitMQ)', {
    truePositives: ['CELERY_BROKER_URL=amqp://worker:i69gECVuvTJ2juCPWUU1@rabbit.internal:5672/jobs', 'AMQP_URL=amqps://svc:L8QwFUE8jopsHia2ee5M@b-12.mq.eu-west-1.amazonaws.com:5671'],
    falsePositives: ['CELERY_BROKER_URL=amqp://guest:guest@localhost:5672//', 'AMQP_URL=amqp://rabbit:5672'],
  }),
  uri('mssql-connection-uri', 'mssql|sqlserver', ['mssql', 'sqlserver'], 'SQL Server', {
    truePositives: ['DATABASE_URL=mssql://sa:iGSPZngSqbcCInCZ@sql.internal:1433/app', 'DB=sqlserver://report:wMSrTkPsEQgHrfc2@10.0.0.5/reports'],
    falsePositives: ['DATABASE_URL=mssql://sql.internal:1433/app', 'DATABASE_URL=mssql://sa:${SA_PASSWORD}@sql:1433/app'],
  }),
  {
    id: 'jdbc-connection-password',
    description: 'JDBC URL with a password parameter',
    severity: 'high',
    keywords: ['jdbc:'],
    regex: 'jdbc:[a-z0-9]{2,20}:[^\\s\'"`<>]{0,300}?[;?&](?:password|pwd)=([^;&\\s\'"`<>]{1,128})',
    flags: 'i',
    secretGroup: 1,
    allowlist: { secrets: [DEFAULT_PASSWORDS] },
    examples: {
      truePositives: ['url=jdbc:sqlserver://sql.internal:1433;databaseName=app;user=app;password=9a9l4NohAQB2x0Qh;encrypt=true', 'jdbc:mysql://db:3306/shop?user=shop&password=EgGEmWKjnkpSJzDH&useSSL=true'],
      falsePositives: ['url=jdbc:sqlserver://sql:1433;databaseName=app;integratedSecurity=true', 'jdbc:mysql://db:3306/shop?user=shop&password=${DB_PASSWORD}'],
    },
  },
  {
    id: 'ado-net-connection-string',
    description: 'ADO.NET / ODBC connection string with a password',
    severity: 'high',
    keywords: ['password=', 'pwd='],
    regex: '(?:Server|Data Source|Host|Address)=[^;\'"`\\n]{1,200};[^\'"`\\n]{0,300}?\\b(?:Password|Pwd)=([^;\'"`\\n]{1,128})',
    flags: 'i',
    secretGroup: 1,
    allowlist: { secrets: [DEFAULT_PASSWORDS, '^\\{[^}]*\\}$'] },
    examples: {
      truePositives: ['"Default": "Server=tcp:acme.database.windows.net,1433;Initial Catalog=app;User ID=app;Password=DMkEqECqSxpERsCoC2bt;Encrypt=True;"', 'Host=pg.internal;Port=5432;Database=app;Username=app;Pwd=UpT08YIgPsvexpu8'],
      falsePositives: ['"Default": "Server=(localdb)\\\\mssqllocaldb;Database=app;Trusted_Connection=True;"', 'Server=sql;Database=app;User Id=sa;Password={0};'],
    },
  },
  {
    id: 'supabase-access-token',
    description: 'Supabase personal access token',
    severity: 'high',
    keywords: ['sbp_'],
    regex: prefixed('sbp_[a-f0-9]{40}', 'A-Za-z0-9'),
    secretGroup: 1,
    entropy: 3,
    examples: {
      truePositives: ['SUPABASE_ACCESS_TOKEN=sbp_455b46e0cb71c2ae5db44c06b0f28ef85fb322af', 'supabase login --token sbp_3ed6dc17e64b4d443c769fbe0d8abfbe4a28bb3b'],
      falsePositives: ['SUPABASE_ACCESS_TOKEN=sbp_<token>', 'SUPABASE_ACCESS_TOKEN=sbp_cb8d1d1a325b052f20c1'],
    },
  },
  {
    id: 'supabase-service-role-key',
    description: 'Supabase service-role key (a JWT that bypasses row-level security)',
    severity: 'critical',
    keywords: ['service_role', 'supabase'],
    ...assignedTo('service_role|supabase[\\w.\\-]{0,20}?service', 'eyJ[A-Za-z0-9_\\-]{10,500}\\.eyJ[A-Za-z0-9_\\-]{20,1000}\\.[A-Za-z0-9_\\-]{20,200}', 'A-Za-z0-9_\\-.'),
    flags: 'i',
    secretGroup: 1,
    examples: {
      truePositives: ['SUPABASE_SERVICE_ROLE_KEY=eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZSIsInJlZiI6IjKiBRj3ZZA0n2PRjcEvzbuexJp4lnI4k-aD5IIGk8In0.0XZKubf9FoNUlnpgmq0lA-E3lFHkweJPnS_99epRjnd', 'supabase_service_key: "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoic2VydmljZV9yb2xlIn6kqqcuVUO5KaN4Lh1gCMmJaXAzHa9q.QPPP5TJDjJVe8q9kzGjkf7jen5Gy0Ge27BFtlsKV_42"'],
      falsePositives: ['SUPABASE_SERVICE_ROLE_KEY=${SUPABASE_SERVICE_ROLE_KEY}', 'SUPABASE_ANON_KEY=eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiYW5vbiJ9.aBpSjkBzpuEoagL4LvOZyq6qqIcs7xfLi5nB9RLxSP3'],
    },
  },
  {
    id: 'planetscale-token',
    description: 'PlanetScale password, service token or OAuth token',
    severity: 'high',
    keywords: ['pscale_tkn_', 'pscale_pw_', 'pscale_oauth_'],
    regex: prefixed('pscale_(?:tkn|pw|oauth)_[A-Za-z0-9_\\-.=]{32,64}', 'A-Za-z0-9_\\-.='),
    secretGroup: 1,
    entropy: 4,
    examples: {
      truePositives: ['DATABASE_PASSWORD=pscale_pw_mCF1gUV3ZuIb4r3Greds-F5h3-hRXJeoJ89TRQ1oyaW', 'PLANETSCALE_SERVICE_TOKEN=pscale_tkn_Ns8oP4NjfPVk2gzvNkrCRj0mX0fxW2q4EXqssasdlDO'],
      falsePositives: ['DATABASE_PASSWORD=pscale_pw_<password>', 'DATABASE_PASSWORD=pscale_pw_ryTHTcHEfl'],
    },
  },
  {
    id: 'databricks-access-token',
    description: 'Databricks personal access token',
    severity: 'high',
    keywords: ['dapi'],
    regex: prefixed('dapi[a-f0-9]{32}(?:-\\d{1,2})?', 'A-Za-z0-9\\-'),
    secretGroup: 1,
    entropy: 3,
    examples: {
      truePositives: ['DATABRICKS_TOKEN=dapid87d655483ca403cd337bff3c7af6d10', 'token = dapi894d9312984fd52d7ea882a54f7c8e2e-2'],
      falsePositives: ['DATABRICKS_TOKEN=dapi<token>', 'DATABRICKS_TOKEN=dapi8386c34347a3685b'],
    },
  },
  {
    id: 'neon-api-key',
    description: 'Neon API key',
    severity: 'high',
    keywords: ['napi_'],
    regex: prefixed('napi_[a-z0-9]{64}', 'A-Za-z0-9'),
    secretGroup: 1,
    entropy: 4,
    examples: {
      truePositives: ['NEON_API_KEY=napi_ytk4n9yvm41n07xkgv5kxipc0joshkdkvrytbzzv5p2v7nfnwmpkh52rn7r1k0zp', 'Authorization: Bearer napi_ehzy2dz8qk4m82xxcxf0hmvwy21io0eqlhufuv1dnfeajxmopzn3t0ndfnab96rl'],
      falsePositives: ['NEON_API_KEY=napi_...', 'NEON_API_KEY=napi_7ahfnwrhmi5xw6m2fjpsflhrli8nlk'],
    },
  },
  {
    id: 'firebase-database-secret',
    description: 'Firebase Realtime Database legacy secret assigned to a Firebase-named variable',
    severity: 'high',
    keywords: ['firebase'],
    ...assignedTo('firebase[\\w.\\-]{0,20}?(?:secret|token|auth)', '[A-Za-z0-9]{40}', 'A-Za-z0-9'),
    flags: 'i',
    secretGroup: 1,
    entropy: 4,
    examples: {
      truePositives: ['FIREBASE_DATABASE_SECRET=Y0uVMOcndNRkuxQxQuA04AU4vbIMw5fSh51Xvra9', 'firebase_auth: "cD8lSxvjEGDmhhiZHmlnfTJKFvSFRDRQxBG9UT0A"'],
      falsePositives: ['FIREBASE_PROJECT_ID=acme-prod-4f2a1', 'FIREBASE_TOKEN=${FIREBASE_TOKEN}'],
    },
  },
  {
    id: 'fauna-secret',
    description: 'Fauna database secret',
    severity: 'high',
    keywords: ['fauna'],
    ...assignedTo('fauna', 'fn[A-Za-z0-9_\\-]{38}', 'A-Za-z0-9_\\-'),
    flags: 'i',
    secretGroup: 1,
    entropy: 4,
    examples: {
      truePositives: ['FAUNA_SECRET=fnfue5jy9rD0HSkNx79ilX9y6YioENU24PRec28r', 'faunadb_key: "fngdDHHpjhnRYlAx1-u3oDLNCnR2d-MWwqkWbldF"'],
      falsePositives: ['FAUNA_SECRET=fnXXXX', 'FAUNA_DOMAIN=db.fauna.com'],
    },
  },
  {
    id: 'influxdb-token',
    description: 'InfluxDB API token assigned to an Influx-named variable',
    severity: 'high',
    keywords: ['influx'],
    ...assignedTo('influx', '[A-Za-z0-9_\\-]{86}==', 'A-Za-z0-9_\\-='),
    flags: 'i',
    secretGroup: 1,
    entropy: 4,
    examples: {
      truePositives: ['INFLUXDB_TOKEN=1rrvWZh28vIjxMQ9tM0c0l7Rj89s1pwAOq8Gx-SF6c4LzuRvPZp0ahZuVJiSLK2gz8yeNrldXkU61W5-O0etZr==', 'influx_token: "67ccn-XVRUp2X69RLCx7Dm5uMXXceFeBHyIH4kQIhl_NWyqNuJpX9w92JX-nPpG_kdKp_pbTcU3nx6cBN6lOP6=="'],
      falsePositives: ['INFLUXDB_ORG=acme', 'INFLUXDB_TOKEN=${INFLUX_TOKEN}'],
    },
  },
];
