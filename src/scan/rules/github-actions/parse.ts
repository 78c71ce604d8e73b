/** GitHub Actions workflows read into triggers, jobs and steps with positions. */
import { VouchError } from '../../../core/errors.ts';
import {
  entries,
  entry,
  get,
  items,
  parseYamlStream,
  str,
  type YMap,
  type YNode,
  type YStream,
} from '../yaml.ts';

export interface Step {
  node: YMap;
  uses: string | undefined;
  usesLine: number;
  run: YNode | undefined;
}

export interface Job {
  id: string;
  node: YMap;
  line: number;
  steps: Step[];
}

export interface Workflow {
  root: YMap;
  /** Event names from `on:` (string, list or map form). */
  triggers: Set<string>;
  jobs: Job[];
  text: string;
  stream: YStream;
}

/** @throws VouchError SCAN_PARSE_ERROR */
export function parseWorkflow(text: string, file: string): Workflow {
  const stream = parseYamlStream(text, file);
  const root = stream.docs[0]?.root;
  if (stream.docs.length !== 1 || root?.kind !== 'map')
    throw new VouchError('SCAN_PARSE_ERROR', 'a workflow must be one YAML mapping', {
      file,
      field: 'line 1',
    });
  const on = get(root, 'on') ?? get(root, 'true');
  const triggers = new Set<string>();
  if (on?.kind === 'scalar' && str(on)) triggers.add(str(on) as string);
  for (const n of items(on)) if (str(n)) triggers.add(str(n) as string);
  for (const e of entries(on)) triggers.add(e.key);
  const jobs: Job[] = [];
  for (const j of entries(get(root, 'jobs'))) {
    if (j.value.kind !== 'map') continue;
    const steps: Step[] = [];
    for (const s of items(get(j.value, 'steps'))) {
      if (s.kind !== 'map') continue;
      const u = entry(s, 'uses');
      steps.push({
        node: s,
        uses: str(u?.value),
        usesLine: u ? u.keyLine : s.line,
        run: get(s, 'run'),
      });
    }
    jobs.push({ id: j.key, node: j.value, line: j.keyLine, steps });
  }
  return { root, triggers, jobs, text, stream };
}

/** `owner/repo` of a `uses:` value (lower-case), or undefined for local and docker. */
export function actionRepo(uses: string): string | undefined {
  if (uses.startsWith('./') || uses.startsWith('docker://')) return undefined;
  const m = /^([^/@]+)\/([^/@]+)/.exec(uses);
  return m ? `${m[1]}/${m[2]}`.toLowerCase() : undefined;
}

/** Every `${{ … }}` in a scalar with its 1-based line, read from the source. */
export function expressions(
  wf: Workflow,
  n: YNode | undefined,
): { expr: string; line: number; column: number }[] {
  if (n?.kind !== 'scalar') return [];
  const src = wf.text.slice(n.start, n.end);
  const out: { expr: string; line: number; column: number }[] = [];
  for (const m of src.matchAll(/\$\{\{([\s\S]*?)\}\}/g)) {
    const p = wf.stream.pos(n.start + (m.index ?? 0));
    out.push({ expr: (m[1] as string).trim(), line: p.line, column: p.column });
  }
  if (out.length === 0 && typeof n.value === 'string') {
    // A quoted scalar with escapes: fall back to the value, at the node's line.
    for (const m of n.value.matchAll(/\$\{\{([\s\S]*?)\}\}/g))
      out.push({ expr: (m[1] as string).trim(), line: n.line, column: n.column });
  }
  return out;
}
