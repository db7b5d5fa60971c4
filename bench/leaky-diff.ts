/**
 * The end-to-end benches' pull-request change: a 2,000-line JavaScript file with one AWS key on
 * line 1,235, different per run (`seed`) so no run's scan is a cached earlier one.
 */
export function leakyDiffFile(seed: number): string {
  const lines: string[] = [];
  for (let i = 0; i < 2_000; i++) lines.push(`export const value${seed}_${i} = computeSomething(${i}, "item-${i}") + ${i * 7};`);
  lines[1_234] = 'const aws = "AKIAZ3MQ7XKPLR4TBN2W";';
  return `${lines.join('\n')}\n`;
}
