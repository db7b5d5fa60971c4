import packageJson from '../../../package.json' with { type: 'json' };

/** How Gatehouse names itself inside the reports and SBOMs it writes. */
export const TOOL = {
  name: 'Gatehouse',
  version: packageJson.version,
} as const;
