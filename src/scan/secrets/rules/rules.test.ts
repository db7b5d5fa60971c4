import { describe, expect, it } from 'vitest';
import { SecretScanner } from '../engine.ts';
import type { SecretRule } from '../rule.ts';
import { RULE_CATEGORIES, RULES } from './index.ts';

/** A path no allow-list skips, so only the rule itself decides. */
const PATH = 'config/settings.conf';

function isPathRule(rule: SecretRule): boolean {
  return rule.regex === '' && rule.path !== undefined;
}

/**
 * Findings of `rule` alone on one example (a path for whole-file rules, a snippet otherwise).
 * A whole-file example is a binary file's path: the name alone, no content.
 */
function findingsOf(rule: SecretRule, example: string, scanner = new SecretScanner({ rules: [rule] })) {
  const found = isPathRule(rule) ? scanner.scanPath(example) : scanner.scanText(PATH, example);
  return found.filter((f) => f.ruleId === rule.id);
}

const REQUIRED_IDS = [
  // cloud
  'aws-access-key-id', 'aws-temporary-access-key-id', 'aws-secret-access-key', 'aws-session-token',
  'gcp-service-account-key-id', 'gcp-api-key', 'azure-storage-account-key', 'azure-ad-client-secret', 'azure-sas-token',
  'alibaba-access-key-id', 'alibaba-access-key-secret', 'ibm-cloud-api-key',
  'digitalocean-personal-access-token', 'digitalocean-oauth-token', 'digitalocean-refresh-token',
  // source hosting and registries
  'github-personal-access-token', 'github-oauth-token', 'github-user-to-server-token', 'github-server-to-server-token',
  'github-refresh-token', 'github-fine-grained-pat', 'gitlab-personal-access-token', 'gitlab-deploy-token',
  'gitlab-runner-authentication-token', 'gitlab-pipeline-trigger-token', 'gitlab-runner-registration-token',
  'atlassian-api-token', 'bitbucket-app-password', 'bitbucket-access-token', 'npm-access-token', 'pypi-upload-token',
  'rubygems-api-key', 'nuget-api-key', 'docker-hub-personal-access-token',
  // messaging and email
  'slack-bot-token', 'slack-user-token', 'slack-app-token', 'slack-webhook-url', 'discord-bot-token', 'discord-webhook-url',
  'microsoft-teams-incoming-webhook', 'microsoft-teams-workflow-webhook', 'twilio-api-key', 'twilio-auth-token',
  'sendgrid-api-key', 'mailgun-api-key', 'mailchimp-api-key',
  // payments
  'stripe-secret-key', 'stripe-restricted-key', 'stripe-webhook-secret', 'stripe-test-key', 'square-access-token',
  'square-legacy-access-token', 'square-application-secret', 'braintree-access-token', 'shopify-access-token',
  'shopify-custom-app-access-token', 'shopify-private-app-access-token', 'shopify-shared-secret',
  // AI providers
  'openai-project-key', 'openai-service-account-key', 'openai-admin-key', 'openai-legacy-key', 'anthropic-api-key',
  'anthropic-admin-key', 'huggingface-access-token', 'huggingface-organization-token', 'cohere-api-key',
  // observability
  'datadog-api-key', 'datadog-application-key', 'new-relic-user-api-key', 'new-relic-browser-api-key', 'new-relic-insert-key',
  'sentry-organization-token', 'sentry-user-token', 'sentry-dsn-secret', 'grafana-cloud-api-token',
  'grafana-service-account-token', 'grafana-api-key',
  // databases
  'postgres-connection-uri', 'mysql-connection-uri', 'mongodb-connection-uri', 'redis-connection-uri', 'amqp-connection-uri',
  'mssql-connection-uri', 'jdbc-connection-password', 'supabase-access-token', 'planetscale-token', 'databricks-access-token',
  'firebase-database-secret',
  // keys and tokens
  'private-key-rsa', 'private-key-ec', 'private-key-dsa', 'private-key-pkcs8', 'private-key-pkcs8-encrypted',
  'private-key-openssh', 'private-key-pgp', 'pkcs12-file', 'jwt', 'age-secret-key',
  // generic assignments
  'generic-secret-json', 'generic-secret-yaml', 'generic-secret-assignment', 'generic-secret-assignment-unquoted',
  'generic-secret-dockerfile-env', 'generic-secret-xml-element',
  // the long tail the issue names
  'heroku-api-key', 'vercel-token', 'netlify-access-token', 'cloudflare-api-token', 'fastly-api-token', 'okta-api-token',
  'auth0-client-secret', 'vault-service-token', 'vault-batch-token', 'terraform-cloud-api-token', 'pulumi-access-token',
  'doppler-token', 'linear-api-key', 'notion-integration-token', 'airtable-personal-access-token',
  'asana-personal-access-token', 'postman-api-key', 'figma-personal-access-token', 'dropbox-short-lived-token',
  'contentful-personal-access-token', 'algolia-admin-api-key', 'mapbox-secret-token', 'snyk-api-token', 'sonar-token',
  'jfrog-api-key', 'telegram-bot-token', 'facebook-access-token', 'twitter-bearer-token', 'linkedin-client-secret',
  'zendesk-api-token', 'intercom-access-token', 'segment-write-key', 'mixpanel-api-secret', 'pagerduty-api-key',
  'opsgenie-api-key',
];

describe('rule set', () => {
  it('has unique kebab-case ids', () => {
    const ids = RULES.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[a-z0-9]+(?:-[a-z0-9]+)*$/);
  });

  it('covers every category the product promises', () => {
    const ids = new Set(RULES.map((r) => r.id));
    expect(REQUIRED_IDS.filter((id) => !ids.has(id))).toEqual([]);
    for (const [category, rules] of Object.entries(RULE_CATEGORIES)) expect(rules.length, category).toBeGreaterThan(0);
  });

  it('has at least 150 rules', () => {
    expect(RULES.length).toBeGreaterThanOrEqual(150);
  });
});

describe.each(RULES.map((rule) => [rule.id, rule] as const))('%s', (_id, rule) => {
  it('is well-formed', () => {
    expect(rule.description.length).toBeGreaterThan(10);
    const flags = `g${rule.flags ?? ''}`;
    const regex = new RegExp(rule.regex, flags);
    if (rule.path !== undefined) expect(() => new RegExp(rule.path!)).not.toThrow();
    if (isPathRule(rule)) return;
    expect(rule.keywords.length).toBeGreaterThan(0);
    for (const k of rule.keywords) expect(k).toBe(k.toLowerCase());
    // A capture group exists for every secretGroup: the empty alternative adds none.
    const groups = new RegExp(`${rule.regex}|`, flags).exec('')!.length - 1;
    expect(groups).toBeGreaterThanOrEqual(rule.secretGroup ?? 0);
    for (const r of [...(rule.allowlist?.secrets ?? []), ...(rule.allowlist?.paths ?? [])]) expect(() => new RegExp(r)).not.toThrow();
    for (const w of rule.allowlist?.stopwords ?? []) expect(w).toBe(w.toLowerCase());
    expect(regex.flags).toContain('g');
  });

  it('has at least two true and two false positives', () => {
    expect(rule.examples.truePositives.length).toBeGreaterThanOrEqual(2);
    expect(rule.examples.falsePositives.length).toBeGreaterThanOrEqual(2);
  });

  it.each(rule.examples.truePositives)('finds %s', (example) => {
    if (!isPathRule(rule)) expect(rule.keywords.some((k) => example.toLowerCase().includes(k))).toBe(true);
    expect(findingsOf(rule, example).length).toBeGreaterThan(0);
  });

  it.each(rule.examples.falsePositives)('ignores %s', (example) => {
    expect(findingsOf(rule, example)).toEqual([]);
  });
});

describe('with every rule loaded', () => {
  const scanner = new SecretScanner();
  it.each(RULES.filter((r) => !isPathRule(r)).map((r) => [r.id, r] as const))('%s still reports its own true positives', (_id, rule) => {
    for (const example of rule.examples.truePositives) {
      expect(findingsOf(rule, example, scanner).length, example).toBeGreaterThan(0);
    }
  });
});

/** Adversarial lines: long runs of keyword-like text that make a backtracking regex explode. */
function adversarialInputs(rule: SecretRule): string[] {
  const size = 1 << 20;
  const fill = (unit: string) => unit.repeat(Math.ceil(size / unit.length)).slice(0, size);
  const keyword = rule.keywords[0] ?? 'key';
  const sample = rule.examples.truePositives[0] ?? keyword;
  return [
    fill(keyword),
    `${keyword}=${fill('aB3xZ9')}`,
    fill(`${keyword}_Ab1 = "'\`:=> `),
    fill(`${keyword}${'A1b2C3d4'.repeat(8)}=.-_/+`),
    // The sample repeated without separators: no bounded quantifier should let one match swallow it all.
    fill(sample),
  ];
}

describe('adversarial input', () => {
  it.each(RULES.filter((r) => !isPathRule(r)).map((r) => [r.id, r] as const))(
    '%s runs in bounded time on 1 MB lines',
    (_id, rule) => {
      const regex = new RegExp(rule.regex, `g${rule.flags ?? ''}`);
      for (const input of adversarialInputs(rule)) {
        regex.lastIndex = 0;
        let matches = 0;
        for (let m = regex.exec(input); m !== null; m = regex.exec(input)) {
          if (m[0].length === 0) regex.lastIndex++;
          matches++;
        }
        expect(matches).toBeGreaterThanOrEqual(0);
      }
    },
    60_000,
  );
});
