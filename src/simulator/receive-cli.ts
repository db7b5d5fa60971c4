import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { fetchDescriptor, webhookUrls } from './descriptor.ts';
import { readState, stateFilePath } from './state-file.ts';
import { deliverWebhook } from './webhooks.ts';

/**
 * `gatehouse simulate receive <event> <payload.json>`: signs one payload as Bitbucket would
 * (JWT with iss = clientKey and the qsh of the POST, X-* headers) and delivers it to the
 * webhook URL the running app's descriptor declares for that event.
 */

export const RECEIVE_USAGE = `Usage: gatehouse simulate receive <event> <payload.json> [options]

Delivers one webhook payload to a running app, signed like Bitbucket Cloud signs it.
<payload.json> may be a plain webhook body, {"event","data"}, or a capture {"headers","payload"}.

Options:
  --base-url URL        the app (default: $BASE_URL, else http://localhost:$PORT or :3000)
  --client-key KEY      installation to sign for (default: from $DATA_DIR/simulator-state.json,
  --shared-secret S       written by \`npm run simulate\`; both flags together override it)
  --data-dir DIR        where to find simulator-state.json (default: $DATA_DIR or ./data)
  --workspace SLUG      pick that workspace's installation from the state file
  --bare                send the plain body instead of {"event","data"}
  --request-uuid UUID   reuse an X-Request-UUID (a redelivery)
  --attempt N           X-Attempt-Number of the first attempt (default 1)
  --no-retry            one attempt only, even after a 5xx
  -h, --help            this text

Exit status: 0 when the app answered 2xx, 1 otherwise, 2 for a usage or input error.`;

interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
  env: NodeJS.ProcessEnv;
}

const defaultIo: Io = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
};

/** Options that take a value; see `attachValues`. */
const VALUE_OPTIONS = new Set(['--base-url', '--client-key', '--shared-secret', '--data-dir', '--workspace', '--request-uuid', '--attempt']);

/**
 * `--shared-secret VALUE` becomes `--shared-secret=VALUE`. Secrets are base64url, so one in
 * 64 starts with `-`, which parseArgs would otherwise refuse as an ambiguous option value.
 */
function attachValues(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = argv[i + 1];
    if (VALUE_OPTIONS.has(arg) && value !== undefined) {
      out.push(`${arg}=${value}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

export async function runSimulateReceive(argv: string[], io: Io = defaultIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: attachValues(argv),
      allowPositionals: true,
      options: {
        'base-url': { type: 'string' },
        'client-key': { type: 'string' },
        'shared-secret': { type: 'string' },
        'data-dir': { type: 'string' },
        workspace: { type: 'string' },
        bare: { type: 'boolean' },
        'request-uuid': { type: 'string' },
        attempt: { type: 'string' },
        'no-retry': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    io.err(`${(error as Error).message}\n\n${RECEIVE_USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.out(RECEIVE_USAGE);
    return 0;
  }
  const [event, payloadFile, ...extra] = positionals;
  if (!event || !payloadFile || extra.length > 0) {
    io.err(`expected exactly <event> and <payload.json>\n\n${RECEIVE_USAGE}`);
    return 2;
  }
  const attempt = Number(values.attempt ?? 1);
  if (!Number.isInteger(attempt) || attempt < 1) {
    io.err('--attempt must be a positive integer');
    return 2;
  }
  if (Boolean(values['client-key']) !== Boolean(values['shared-secret'])) {
    io.err('--client-key and --shared-secret go together');
    return 2;
  }

  let body: unknown;
  try {
    body = toDeliveryBody(event, JSON.parse(await readFile(payloadFile, 'utf8')), Boolean(values.bare));
  } catch (error) {
    io.err(`cannot read ${payloadFile}: ${(error as Error).message}`);
    return 2;
  }

  const baseUrl = (values['base-url'] ?? io.env.BASE_URL ?? `http://localhost:${io.env.PORT ?? 3000}`).replace(/\/+$/, '');
  let credentials = values['client-key'] && values['shared-secret'] ? { clientKey: values['client-key'], sharedSecret: values['shared-secret'] } : undefined;
  if (!credentials) {
    const dataDir = values['data-dir'] ?? io.env.DATA_DIR ?? './data';
    const state = await readState(dataDir).catch((error: unknown) => {
      io.err((error as Error).message);
      return undefined;
    });
    const inst = state?.installations.find((i) => !values.workspace || i.workspace === values.workspace);
    if (!inst) {
      io.err(`no installation to sign for: run \`npm run simulate\` first (it writes ${stateFilePath(dataDir)}) or pass --client-key and --shared-secret`);
      return 2;
    }
    credentials = inst;
  }

  let urls: string[];
  let appBaseUrl: string;
  try {
    const descriptor = await fetchDescriptor(baseUrl);
    urls = webhookUrls(descriptor, event);
    appBaseUrl = descriptor.baseUrl;
  } catch (error) {
    io.err(`cannot read the app's descriptor at ${baseUrl}: ${(error as Error).message}`);
    return 1;
  }
  if (urls.length === 0) {
    io.err(`the app's descriptor subscribes to no webhook for ${event}`);
    return 2;
  }

  let ok = true;
  for (const url of urls) {
    const delivery = await deliverWebhook({
      event,
      url,
      appBaseUrl,
      clientKey: credentials.clientKey,
      sharedSecret: credentials.sharedSecret,
      hookUuid: '00000000-0000-4000-8000-000000000000',
      body,
      requestUuid: values['request-uuid'],
      firstAttempt: attempt,
      retries: values['no-retry'] ? 0 : undefined,
      retryDelayMs: 1000,
      now: () => new Date(),
    });
    for (const a of delivery.attempts) {
      io.out(`${event} → ${url} attempt ${a.attempt} (X-Request-UUID ${delivery.requestUuid}): ${a.status ?? a.error} ${a.responseBody.slice(0, 300)}`);
    }
    const last = delivery.attempts.at(-1);
    ok &&= last?.status !== null && last?.status !== undefined && last.status >= 200 && last.status < 300;
  }
  return ok ? 0 : 1;
}

/** Accepts a plain body, an already wrapped {"event","data"} body, or a captured delivery. */
function toDeliveryBody(event: string, json: unknown, bare: boolean): unknown {
  let data = json as Record<string, unknown>;
  if (data && typeof data === 'object' && 'payload' in data && 'headers' in data) data = data.payload as Record<string, unknown>;
  if (data && typeof data === 'object' && 'data' in data && 'event' in data) data = data.data as Record<string, unknown>;
  if (!data || typeof data !== 'object' || Array.isArray(data)) throw new Error('the payload must be a JSON object');
  return bare ? data : { event, data };
}
