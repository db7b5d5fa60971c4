import { describe, expect, it } from 'vitest';
import { loadRepoConfig } from './index.ts';

describe('loadRepoConfig', () => {
  it('merges the three files, .gatehouse.yml winning over .gitleaks.toml for the same rule id', () => {
    const { config, problems } = loadRepoConfig({
      gitleaksToml: `[extend]\ndisabledRules = ["a"]\n[[rules]]\nid = "shared"\nregex = "toml_[0-9]{4}"\n`,
      gatehouseYml: `secrets:\n  disable: [b]\n  rules:\n    - id: shared\n      description: from yml\n      regex: 'yml_[0-9]{4}'\n`,
      gitleaksIgnore: 'x.ts:shared:3\n',
    });
    expect(problems).toEqual([]);
    expect(config.disabledRules).toEqual(['a', 'b']);
    expect(config.customRules).toMatchObject([{ id: 'shared', regex: 'yml_[0-9]{4}' }]);
    expect(config.ignoredFingerprints).toEqual(['x.ts:shared:3']);
  });

  it('returns an empty configuration without files and never throws on garbage', () => {
    expect(loadRepoConfig({})).toEqual({
      config: { disabledRules: [], customRules: [], ignorePaths: [], severityOverrides: {}, allowlists: [], ignoredFingerprints: [] },
      problems: [],
    });
    const garbage = loadRepoConfig({ gatehouseYml: '\0\u0001:::', gitleaksToml: '= = =', gitleaksIgnore: ':::' });
    expect(garbage.problems.length).toBeGreaterThanOrEqual(3);
  });
});
