/** GitLab CI configuration (`.gitlab-ci.yml`) read into global keys and jobs. */
import { VouchError } from '../../../core/errors.ts';
import { entries, parseYamlStream, type YEntry, type YMap } from '../yaml.ts';

/** Top-level keys that are not jobs. */
const GLOBAL_KEYS = new Set([
  'default',
  'include',
  'stages',
  'variables',
  'workflow',
  'image',
  'services',
  'cache',
  'before_script',
  'after_script',
  'spec',
  'types',
  'pages:deploy',
]);

export interface GitlabCi {
  /** The configuration mapping (the last document: a `spec:` header may precede it). */
  root: YMap;
  globals: YEntry[];
  jobs: YEntry[];
}

/** @throws VouchError SCAN_PARSE_ERROR */
export function parseGitlabCi(text: string, file: string): GitlabCi {
  const stream = parseYamlStream(text, file);
  const docs = stream.docs.filter((d) => d.root !== undefined);
  const root = docs[docs.length - 1]?.root;
  if (root === undefined)
    return {
      root: { kind: 'map', entries: [], line: 1, column: 1, start: 0, end: 0 },
      globals: [],
      jobs: [],
    };
  if (root.kind !== 'map')
    throw new VouchError('SCAN_PARSE_ERROR', 'GitLab CI configuration must be a mapping', {
      file,
      field: `line ${root.line}`,
    });
  const globals: YEntry[] = [];
  const jobs: YEntry[] = [];
  for (const e of entries(root)) {
    if (GLOBAL_KEYS.has(e.key)) globals.push(e);
    else if (e.value.kind === 'map') jobs.push(e);
  }
  return { root, globals, jobs };
}
