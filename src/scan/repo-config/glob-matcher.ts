/**
 * The glob language of glob.ts, matched in time linear in the path (times the pattern's
 * length) instead of by a backtracking RegExp. A RegExp such as `[^/]*a[^/]*a[^/]*a…b`
 * backtracks polynomially in the number of wildcards: a 15-character glob takes seconds on
 * a 60-character name. Globs that one installation's admin saves in its policy run in the
 * worker every tenant shares, so they are matched here instead.
 */

type Step =
  | { t: 'lit'; c: string }
  | { t: 'one' } // `?`: one character of a segment
  | { t: 'star' } // `*`: any run within a segment
  | { t: 'any' } // `**` not followed by `/`: any run, slashes included
  | { t: 'anyDir' } // `**/` (and the unanchored prefix): nothing, or any run ending in `/`
  | { t: 'class'; re: RegExp }
  | { t: 'alt'; options: Step[][] };

/** Brace alternatives multiply; past this many flat patterns the glob is refused. */
export const MAX_GLOB_ALTERNATIVES = 256;

export interface GlobMatcher {
  test(path: string): boolean;
}

export function globMatcher(glob: string): GlobMatcher {
  let pattern = glob.trim().replace(/^\.\//, '');
  const steps: Step[] = [];
  if (pattern.startsWith('/')) pattern = pattern.slice(1);
  else if (!pattern.slice(0, -1).includes('/')) steps.push({ t: 'anyDir' });
  if (pattern.endsWith('/')) pattern += '**';
  steps.push(...parse(pattern, glob));
  const flat = expand(steps, glob);
  return { test: (path) => flat.some((seq) => matches(seq, path)) };
}

function parse(pattern: string, glob: string): Step[] {
  // A stack of open braces: each holds its finished options and the one being read.
  const root: Step[] = [];
  const open: { options: Step[][]; current: Step[] }[] = [];
  const out = () => open.at(-1)?.current ?? root;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        const slashAfter = pattern[i + 2] === '/';
        out().push({ t: slashAfter ? 'anyDir' : 'any' });
        i += slashAfter ? 2 : 1;
      } else {
        out().push({ t: 'star' });
      }
    } else if (c === '?') {
      out().push({ t: 'one' });
    } else if (c === '[') {
      const close = pattern.indexOf(']', i + 2);
      if (close === -1) {
        out().push({ t: 'lit', c });
      } else {
        const body = pattern.slice(i + 1, close).replace(/^!/, '^').replace(/\\/g, '\\\\');
        // One character against a class: a RegExp without quantifiers cannot backtrack.
        out().push({ t: 'class', re: new RegExp(`^[${body}]$`, 's') });
        i = close;
      }
    } else if (c === '{') {
      open.push({ options: [], current: [] });
    } else if (c === '}' && open.length > 0) {
      const brace = open.pop()!;
      out().push({ t: 'alt', options: [...brace.options, brace.current] });
    } else if (c === ',' && open.length > 0) {
      const brace = open.at(-1)!;
      brace.options.push(brace.current);
      brace.current = [];
    } else {
      out().push({ t: 'lit', c });
    }
  }
  if (open.length > 0) throw new Error(`unbalanced "{" in glob "${glob}"`);
  return root;
}

type FlatStep = Exclude<Step, { t: 'alt' }>;

/** Brace alternatives multiplied out into flat step sequences. */
function expand(steps: Step[], glob: string): FlatStep[][] {
  let sequences: FlatStep[][] = [[]];
  for (const step of steps) {
    if (step.t !== 'alt') {
      for (const seq of sequences) seq.push(step);
      continue;
    }
    const choices = step.options.flatMap((option) => expand(option, glob));
    if (sequences.length * choices.length > MAX_GLOB_ALTERNATIVES) {
      throw new Error(`glob "${glob}" expands to more than ${MAX_GLOB_ALTERNATIVES} alternatives`);
    }
    sequences = sequences.flatMap((seq) => choices.map((choice) => [...seq, ...choice]));
  }
  return sequences;
}

/**
 * A set-of-states simulation (Thompson). State 2i is "before step i"; state 2i+1 is "inside
 * the run of the anyDir step i". Past the last step, the rest of the path may be `/…`
 * (a pattern also matches everything under a matching directory): state 2m+1.
 */
function matches(seq: FlatStep[], path: string): boolean {
  const m = seq.length;
  const size = 2 * m + 2;
  const DONE = 2 * m;
  const TAIL = 2 * m + 1;
  let current = new Uint8Array(size);
  let next = new Uint8Array(size);

  const close = (states: Uint8Array) => {
    // Epsilon moves only go forward (or to the same step's inner state), so one pass suffices.
    for (let i = 0; i < m; i++) {
      if (!states[2 * i]) continue;
      const t = seq[i]!.t;
      if (t === 'star' || t === 'any' || t === 'anyDir') states[2 * (i + 1)] = 1;
      if (t === 'anyDir') states[2 * i + 1] = 1;
    }
  };

  current[0] = 1;
  close(current);
  for (const c of path) {
    next.fill(0);
    let alive = false;
    for (let i = 0; i < m; i++) {
      const step = seq[i]!;
      if (current[2 * i]) {
        switch (step.t) {
          case 'lit':
            if (c === step.c) next[2 * (i + 1)] = 1;
            break;
          case 'one':
            if (c !== '/') next[2 * (i + 1)] = 1;
            break;
          case 'class':
            if (step.re.test(c)) next[2 * (i + 1)] = 1;
            break;
          case 'star':
            if (c !== '/') next[2 * i] = 1;
            break;
          case 'any':
            next[2 * i] = 1;
            break;
          case 'anyDir':
            break; // entering the run is the epsilon move to 2i+1
        }
      }
      if (step.t === 'anyDir' && current[2 * i + 1]) {
        next[2 * i + 1] = 1;
        if (c === '/') next[2 * (i + 1)] = 1;
      }
    }
    if ((current[DONE] && c === '/') || current[TAIL]) next[TAIL] = 1;
    close(next);
    for (let s = 0; s < size && !alive; s++) alive = next[s] === 1;
    if (!alive) return false;
    [current, next] = [next, current];
  }
  return current[DONE] === 1 || current[TAIL] === 1;
}
