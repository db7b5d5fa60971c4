import { z } from 'zod';
import { globMatcher } from '../scan/repo-config/glob-matcher.ts';
import { SEVERITIES, atLeast } from '../scan/types.ts';
import type { Policy, ResultsStore, StoredFinding } from '../store/results-types.ts';

// Apart from the rest of the policy (and zod), for the scan threads that load it.
export { pathFilter } from './path-filter.ts';

/**
 * What an installation decides about results: which severity fails a change, which
 * scanners run, which paths are never scanned, and which branch is which environment.
 */

/** Until an admin says otherwise: fail on new findings of severity high or above, scan everything. */
export const DEFAULT_POLICY: Policy = Object.freeze({
  threshold: 'high',
  scanners: { secrets: true, dependencies: true },
  ignoredPaths: [],
  environments: [{ branch: '{main,master}', environment: 'production' }],
}) as Policy;

const glob = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(256, 'at most 256 characters')
  .refine((value) => {
    try {
      globMatcher(value);
      return true;
    } catch {
      return false;
    }
  }, 'not a valid glob');

/** The body of PUT /api/policy: every field optional, missing fields keep their value. */
export const policyPatchSchema = z
  .object({
    threshold: z.enum(SEVERITIES),
    scanners: z.object({ secrets: z.boolean(), dependencies: z.boolean() }).partial().strict(),
    ignoredPaths: z.array(glob).max(200, 'at most 200 ignored paths'),
    environments: z
      .array(z.object({ branch: glob, environment: z.string().trim().min(1).max(64).regex(/^[\w.-]+$/, 'letters, digits, dots, dashes, underscores') }).strict())
      .max(50, 'at most 50 branch mappings'),
  })
  .partial()
  .strict();
export type PolicyPatch = z.infer<typeof policyPatchSchema>;

export function applyPolicyPatch(policy: Policy, patch: PolicyPatch): Policy {
  return {
    threshold: patch.threshold ?? policy.threshold,
    scanners: { ...policy.scanners, ...patch.scanners },
    ignoredPaths: patch.ignoredPaths ?? policy.ignoredPaths,
    environments: patch.environments ?? policy.environments,
  };
}

export async function policyOf(results: ResultsStore, clientKey: string): Promise<Policy> {
  return (await results.getPolicy(clientKey)) ?? structuredClone(DEFAULT_POLICY);
}

/** The environment a branch deploys to, by the first mapping whose glob matches the whole name. */
export function environmentOf(policy: Policy, branch: string): string | null {
  for (const { branch: pattern, environment } of policy.environments) {
    // A leading slash anchors the glob at the start: `main` must not match `feature/main`.
    if (globMatcher(`/${pattern.replace(/^\/+/, '')}`).test(branch)) return environment;
  }
  return null;
}

/** A finding that fails the change: introduced by it, untriaged, at or above the threshold. */
export function isBlocking(policy: Policy, finding: StoredFinding): boolean {
  return finding.isNew && finding.triage === undefined && atLeast(finding.severity, policy.threshold);
}

export function resultOf(policy: Policy, findings: readonly StoredFinding[]): 'PASSED' | 'FAILED' {
  return findings.some((f) => isBlocking(policy, f)) ? 'FAILED' : 'PASSED';
}
