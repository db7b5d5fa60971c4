const GATEHOUSE_FINGERPRINT = /^[0-9a-f]{64}$/;
const COMMIT_PREFIX = /^[0-9a-f]{7,40}:/;

/**
 * Reads `.gitleaksignore`: one fingerprint per line, `#` comments. Gatehouse
 * fingerprints (64 hex) are kept as they are; gitleaks ones, `commit:path:rule:line`
 * or `path:rule:line`, become `path:rule:line`. The commit is dropped because a scan of
 * a tree or a diff has no commit per finding; the entry then applies wherever that
 * file, rule and line meet.
 */
export function parseGitleaksIgnore(text: string): { fingerprints: string[]; problems: string[] } {
  const fingerprints: string[] = [];
  const problems: string[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    if (GATEHOUSE_FINGERPRINT.test(line)) {
      fingerprints.push(line);
      return;
    }
    const parts = line.split(':');
    const lineNumber = parts.pop();
    const ruleId = parts.pop();
    const path = parts.join(':').replace(COMMIT_PREFIX, '');
    if (!lineNumber || !/^\d+$/.test(lineNumber) || !ruleId || !path) {
      problems.push(`.gitleaksignore:${index + 1}: expected "path:rule:line", "commit:path:rule:line" or a Gatehouse fingerprint`);
      return;
    }
    fingerprints.push(`${path}:${ruleId}:${lineNumber}`);
  });
  return { fingerprints, problems };
}
