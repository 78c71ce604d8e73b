/**
 * GitHub Actions files read into one model with positions: workflows
 * (triggers, jobs, steps) and action metadata files (`action.yml`), whose
 * composite `runs.steps` become one job so the step rules apply unchanged.
 */
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
  /** How messages name it: `job build`, or `composite action` for an action's steps. */
  label: string;
  node: YMap;
  line: number;
  steps: Step[];
}

export interface Workflow {
  /** A workflow (`.github/workflows/*.yml`) or an action metadata file (`action.yml`). */
  kind: 'workflow' | 'action';
  root: YMap;
  /** Event names from `on:` (string, list or map form); empty for an action. */
  triggers: Set<string>;
  /**
   * A workflow's declared inputs per trigger, name → `type:` lower-cased
   * (`''` when absent): `on.workflow_call.inputs` and
   * `on.workflow_dispatch.inputs`. Empty for an action, whose `inputs:` are
   * untyped strings.
   */
  inputs: { call: Map<string, string>; dispatch: Map<string, string> };
  /** A workflow's jobs; an action's composite `runs.steps` as one job (none for other actions). */
  jobs: Job[];
  /** An action's `runs.using`, lower-cased (`composite`, `docker`, `node20`…). */
  using?: string;
  /** A Docker action's `runs.image` and the line of its key. */
  image?: { ref: string; line: number };
  text: string;
  stream: YStream;
}

const WORKFLOW_PATH = /(?:^|\/)\.github\/workflows\/[^/]+\.ya?ml$/;
const ACTION_PATH = /(?:^|\/)action\.ya?ml$/;
/** Top-level `apiVersion:` and `kind:`: a Kubernetes manifest that happens to be called action.yaml. */
const KUBERNETES = /^apiVersion:\s*\S/m;

/** Whether `path` (relative, `/`-separated) is a workflow file. */
export function isWorkflowPath(path: string): boolean {
  return WORKFLOW_PATH.test(path);
}

/**
 * Whether `path` is an action metadata file: `action.yml` / `action.yaml`
 * anywhere (the repository root for a published action,
 * `.github/actions/<name>/` for local ones), unless the first bytes show a
 * Kubernetes manifest.
 */
export function isActionPath(path: string, firstBytes?: string): boolean {
  return (
    !isWorkflowPath(path) &&
    ACTION_PATH.test(path) &&
    !(firstBytes !== undefined && KUBERNETES.test(firstBytes) && /^kind:\s*\S/m.test(firstBytes))
  );
}

/** A workflow or an action metadata file, by its path. @throws VouchError SCAN_PARSE_ERROR */
export function parseGithubActions(text: string, file: string): Workflow {
  return isWorkflowPath(file) || !ACTION_PATH.test(file)
    ? parseWorkflow(text, file)
    : parseAction(text, file);
}

function readSteps(n: YNode | undefined): Step[] {
  const steps: Step[] = [];
  for (const s of items(n)) {
    if (s.kind !== 'map') continue;
    const u = entry(s, 'uses');
    steps.push({
      node: s,
      uses: str(u?.value),
      usesLine: u ? u.keyLine : s.line,
      run: get(s, 'run'),
    });
  }
  return steps;
}

/**
 * An action metadata file. Same YAML reader and limits as workflows, so a
 * hostile file fails the same way. A file without `runs` (not an action
 * after all) has no jobs and no findings.
 *
 * @throws VouchError SCAN_PARSE_ERROR
 */
export function parseAction(text: string, file: string): Workflow {
  const stream = parseYamlStream(text, file);
  const root = stream.docs[0]?.root;
  if (stream.docs.length !== 1 || root?.kind !== 'map')
    throw new VouchError('SCAN_PARSE_ERROR', 'an action metadata file must be one YAML mapping', {
      file,
      field: 'line 1',
    });
  const runs = entry(root, 'runs');
  const wf: Workflow = {
    kind: 'action',
    root,
    triggers: new Set(),
    inputs: { call: new Map(), dispatch: new Map() },
    jobs: [],
    text,
    stream,
  };
  if (runs?.value.kind !== 'map') return wf;
  const using = str(get(runs.value, 'using'))?.toLowerCase();
  if (using !== undefined) wf.using = using;
  if (using === 'composite')
    wf.jobs.push({
      id: 'composite',
      label: 'composite action',
      node: runs.value,
      line: runs.keyLine,
      steps: readSteps(get(runs.value, 'steps')),
    });
  const image = entry(runs.value, 'image');
  const ref = str(image?.value);
  if (using === 'docker' && image && ref !== undefined) wf.image = { ref, line: image.keyLine };
  return wf;
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
  const inputs = {
    call: declaredInputs(on, 'workflow_call'),
    dispatch: declaredInputs(on, 'workflow_dispatch'),
  };
  const jobs: Job[] = [];
  for (const j of entries(get(root, 'jobs'))) {
    if (j.value.kind !== 'map') continue;
    const steps = readSteps(get(j.value, 'steps'));
    jobs.push({ id: j.key, label: `job ${j.key}`, node: j.value, line: j.keyLine, steps });
  }
  return { kind: 'workflow', root, triggers, inputs, jobs, text, stream };
}

/** `on.<event>.inputs`: each name with its `type:` lower-cased, `''` when absent or not a mapping. */
function declaredInputs(on: YNode | undefined, event: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of entries(get(on, event, 'inputs')))
    out.set(e.key, str(get(e.value, 'type'))?.toLowerCase() ?? '');
  return out;
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
