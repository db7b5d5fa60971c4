/**
 * `count` distinct AWS-shaped access key ids, one per file (the detector merges equal keys), for
 * the repository panels' findings lists: more than the 20 they show at first.
 */
export function leakyFiles(count: number): { keys: string[]; files: Record<string, string> } {
  const letter = (n: number) => String.fromCharCode(65 + (n % 26));
  const keys = Array.from({ length: count }, (_, i) => `AKIAZ3MQ7XKPLR4T${letter(i / 26)}${letter(i)}${letter(i * 7)}W`);
  const files = Object.fromEntries(keys.map((key, i) => [`config/service-${String(i).padStart(2, '0')}.env`, `# service ${i}\nAWS_ACCESS_KEY_ID=${key}\n`]));
  return { keys, files };
}
