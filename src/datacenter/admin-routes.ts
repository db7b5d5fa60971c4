import express, { Router, type Response } from 'express';
import { z } from 'zod';
import { requireAdminToken } from '../http/admin-auth.ts';
import { HttpError, parseRequest } from '../http/errors.ts';
import { parseWebhookTargets, type CheckProblem, type WebhookTarget } from './instance-api.ts';
import { addInstance, listInstances, RegistrationError, removeInstance, rotateSecret, type RegistrationDeps } from './registration.ts';
import { viewOf } from './instance.ts';

/**
 * The operator API for Data Center instances, the same operations as `gatehouse datacenter`
 * (registration.ts does the work for both):
 *
 *   POST   /admin/datacenter/instances                          register (or update by name)
 *   GET    /admin/datacenter/instances                          list, no tokens or secrets
 *   GET    /admin/datacenter/instances/{instanceId}             one
 *   DELETE /admin/datacenter/instances/{instanceId}             remove (also ?name=NAME on the collection)
 *   POST   /admin/datacenter/instances/{instanceId}/rotate-secret
 *
 * Mounted only when ADMIN_TOKEN is set; every route needs it as a bearer token.
 */
export const ADMIN_INSTANCES_PATH = '/admin/datacenter/instances';

const INSTANCE_ID = /^[A-Za-z0-9_-]{1,64}$/;

const targets = z
  .union([z.string(), z.array(z.string()).max(1000)])
  .transform((value, ctx): WebhookTarget[] => {
    const parsed = parseWebhookTargets(Array.isArray(value) ? value.join(',') : value);
    if (!parsed.ok) {
      ctx.addIssue({ code: 'custom', message: parsed.reason });
      return z.NEVER;
    }
    return parsed.targets;
  });

const addBody = z
  .object({
    name: z.string().min(1).max(200),
    baseUrl: z.string().min(1).max(2000),
    token: z.string().min(1).max(4096),
    webhookSecret: z.string().min(1).max(1024).optional(),
    installWebhooks: targets.optional(),
  })
  .strict();

const rotateBody = z
  .object({
    webhookSecret: z.string().min(1).max(1024).optional(),
    graceHours: z.number().min(0).max(720).optional(),
    installWebhooks: targets.optional(),
  })
  .strict();

/** HTTP answers for registration failures: the instance's own refusal is not our client's 400. */
const CHECK_STATUS: Record<CheckProblem, { status: number; code: string }> = {
  unreachable: { status: 502, code: 'datacenter_unreachable' },
  bad_answer: { status: 502, code: 'datacenter_bad_answer' },
  not_bitbucket: { status: 422, code: 'datacenter_not_bitbucket' },
  unauthorized: { status: 422, code: 'datacenter_token_rejected' },
  forbidden: { status: 422, code: 'datacenter_token_insufficient' },
  not_found: { status: 422, code: 'datacenter_not_found' },
};

function httpErrorOf(err: unknown): unknown {
  if (!(err instanceof RegistrationError)) return err;
  if (err.problem === 'check_failed') {
    const mapped = CHECK_STATUS[err.detail as CheckProblem] ?? { status: 502, code: 'datacenter_check_failed' };
    return new HttpError(mapped.status, mapped.code, err.message);
  }
  if (err.problem === 'name_taken') return new HttpError(409, 'name_taken', err.message);
  if (err.problem === 'not_found') return new HttpError(404, 'no_such_instance', err.message);
  return new HttpError(400, 'invalid_request', err.message);
}

/** Express 5 passes a rejected handler's error on; this maps registration failures first. */
function handle(work: (req: express.Request, res: Response) => Promise<void>): express.RequestHandler {
  return async (req, res) => {
    try {
      await work(req, res);
    } catch (err) {
      throw httpErrorOf(err);
    }
  };
}

async function byId(deps: RegistrationDeps, instanceId: string | string[] | undefined) {
  const id = typeof instanceId === 'string' && INSTANCE_ID.test(instanceId) ? instanceId : undefined;
  const instance = id === undefined ? undefined : await deps.instances.getDatacenterInstance(id);
  if (!instance) throw new HttpError(404, 'no_such_instance', 'No Data Center instance with that id');
  return instance;
}

export function datacenterAdminRouter(deps: RegistrationDeps & { adminToken: string }): Router {
  const router = Router();
  const json = express.json({ limit: '64kb', type: () => true });
  router.use(ADMIN_INSTANCES_PATH, requireAdminToken(deps.adminToken));

  router.post(ADMIN_INSTANCES_PATH, json, handle(async (req, res) => {
    const body = parseRequest(addBody, req.body);
    const result = await addInstance(deps, body);
    res.status(result.updated ? 200 : 201).json({
      ...result.instance,
      ...(result.generatedSecret ? { webhookSecret: result.generatedSecret } : {}),
      updated: result.updated,
      webhooks: result.webhooks,
    });
  }));

  router.get(ADMIN_INSTANCES_PATH, handle(async (_req, res) => {
    res.json({ instances: await listInstances(deps) });
  }));

  router.get(`${ADMIN_INSTANCES_PATH}/:instanceId`, handle(async (req, res) => {
    res.json(viewOf(await byId(deps, req.params.instanceId), deps.publicBaseUrl));
  }));

  router.delete(ADMIN_INSTANCES_PATH, handle(async (req, res) => {
    const name = typeof req.query.name === 'string' ? req.query.name : undefined;
    if (!name) throw new HttpError(400, 'invalid_request', 'Name the instance: DELETE .../instances/{instanceId} or .../instances?name=NAME');
    const removed = await removeInstance(deps, name);
    res.json({ removed: true, instanceId: removed.instanceId, name: removed.name });
  }));

  router.delete(`${ADMIN_INSTANCES_PATH}/:instanceId`, handle(async (req, res) => {
    const instance = await byId(deps, req.params.instanceId);
    await deps.instances.deleteDatacenterInstance(instance.instanceId);
    res.json({ removed: true, instanceId: instance.instanceId, name: instance.name });
  }));

  router.post(`${ADMIN_INSTANCES_PATH}/:instanceId/rotate-secret`, json, handle(async (req, res) => {
    const instance = await byId(deps, req.params.instanceId);
    const body = parseRequest(rotateBody, req.body ?? {});
    const result = await rotateSecret(deps, {
      name: instance.name,
      ...(body.webhookSecret === undefined ? {} : { webhookSecret: body.webhookSecret }),
      ...(body.graceHours === undefined ? {} : { graceMs: Math.round(body.graceHours * 3_600_000) }),
      ...(body.installWebhooks ? { installWebhooks: body.installWebhooks } : {}),
    });
    res.json({ ...result.instance, webhookSecret: result.webhookSecret, previousSecretValidUntil: result.previousSecretValidUntil, webhooks: result.webhooks });
  }));

  return router;
}
