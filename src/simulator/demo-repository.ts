import { createHash, randomInt } from 'node:crypto';

/**
 * The demo's repository: a small Node service whose pull request commits an AWS key pair in a
 * deployment file and pins two npm packages at versions with published advisories. The key
 * pair is generated on every run in AWS's format (it was never issued, so it opens nothing),
 * which keeps realistic credentials out of this source file.
 */

export interface FakeAwsKeyPair {
  accessKeyId: string;
  secretAccessKey: string;
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function randomString(alphabet: string, length: number): string {
  return Array.from({ length }, () => alphabet[randomInt(alphabet.length)]).join('');
}

/** `AKIA` + 16 base32 characters and a 40-character base64 secret, as IAM issues them. */
export function fakeAwsKeyPair(): FakeAwsKeyPair {
  return { accessKeyId: `AKIA${randomString(BASE32, 16)}`, secretAccessKey: randomString(BASE64, 40) };
}

/** A package-lock.json (lockfileVersion 3) for direct dependencies without transitive ones. */
function packageLock(name: string, version: string, deps: Record<string, string>): string {
  const packages: Record<string, unknown> = { '': { name, version, dependencies: Object.fromEntries(Object.keys(deps).map((d) => [d, `^${deps[d]}`])) } };
  for (const [dep, depVersion] of Object.entries(deps)) {
    packages[`node_modules/${dep}`] = {
      version: depVersion,
      resolved: `https://registry.npmjs.org/${dep}/-/${dep}-${depVersion}.tgz`,
      // Shaped like npm's sha512 integrity; derived from the name so the file is stable.
      integrity: `sha512-${createHash('sha512').update(`${dep}@${depVersion}`).digest('base64')}`,
      license: 'MIT',
    };
  }
  return `${JSON.stringify({ name, version, lockfileVersion: 3, requires: true, packages }, null, 2)}\n`;
}

function packageJson(name: string, deps: Record<string, string>): string {
  const dependencies = Object.fromEntries(Object.entries(deps).map(([d, v]) => [d, `^${v}`]));
  return `${JSON.stringify({ name, version: '1.4.0', private: true, main: 'src/index.js', scripts: { start: 'node src/index.js' }, dependencies }, null, 2)}\n`;
}

const SERVICE = 'payments-api';
const MAIN_DEPS = { express: '4.21.2' };
const PR_DEPS = { express: '4.21.2', lodash: '4.17.20', minimist: '1.2.5' };
const FIXED_DEPS = { express: '4.21.2', lodash: '4.17.21', minimist: '1.2.6' };

export const DEMO_REPOSITORY = {
  slug: SERVICE,
  branch: 'feature/nightly-export',
  title: 'Nightly export of settled payments to S3',
  description: 'Adds a small CLI that exports the previous day\'s settled payments to the reporting bucket, plus its deployment settings.',
};

export function mainBranchFiles(): Record<string, string> {
  return {
    'README.md': `# ${SERVICE}\n\nSettlement and refund endpoints for the checkout.\n`,
    'package.json': packageJson(SERVICE, MAIN_DEPS),
    'package-lock.json': packageLock(SERVICE, '1.4.0', MAIN_DEPS),
    'src/index.js': [
      "const express = require('express');",
      '',
      'const app = express();',
      "app.get('/healthz', (req, res) => res.json({ ok: true }));",
      'app.listen(process.env.PORT || 8080);',
      '',
    ].join('\n'),
  };
}

export function pullRequestFiles(keys: FakeAwsKeyPair): Record<string, string> {
  return {
    'package.json': packageJson(SERVICE, PR_DEPS),
    'package-lock.json': packageLock(SERVICE, '1.4.0', PR_DEPS),
    'config/deploy.env': [
      '# Settings for the nightly export job',
      'AWS_REGION=eu-west-1',
      `AWS_ACCESS_KEY_ID=${keys.accessKeyId}`,
      `AWS_SECRET_ACCESS_KEY=${keys.secretAccessKey}`,
      'EXPORT_BUCKET=acme-payments-reporting',
      '',
    ].join('\n'),
    'src/export.js': [
      "const minimist = require('minimist');",
      "const { groupBy } = require('lodash');",
      '',
      '// Usage: node src/export.js --day 2026-11-21',
      'const args = minimist(process.argv.slice(2));',
      'module.exports = function exportDay(payments) {',
      "  return groupBy(payments.filter((p) => p.settledOn === args.day), 'currency');",
      '};',
      '',
    ].join('\n'),
  };
}

/**
 * The author's fix after Gatehouse's comment: the key pair leaves the deployment file (the
 * job reads it from the environment) and both packages move to their fixed versions.
 */
export function pullRequestFixFiles(): Record<string, string> {
  return {
    'package.json': packageJson(SERVICE, FIXED_DEPS),
    'package-lock.json': packageLock(SERVICE, '1.4.0', FIXED_DEPS),
    'config/deploy.env': [
      '# Settings for the nightly export job',
      '# AWS credentials come from the job runner\'s role, never from this file.',
      'AWS_REGION=eu-west-1',
      'EXPORT_BUCKET=acme-payments-reporting',
      '',
    ].join('\n'),
  };
}
