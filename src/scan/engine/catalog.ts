import { DEP_RULES } from '../deps/index.ts';
import type { FindingCategory, Severity } from '../finding.ts';
import type { RuleSet } from '../rule.ts';
import type { Detector } from '../secrets/index.ts';
import { SUPPRESSION_RULE } from '../suppress/index.ts';

/** What outputs say about a rule: SARIF's tool.driver.rules, the table's legend, the docs. */
export interface RuleInfo {
  id: string;
  severity: Severity;
  title: string;
  description: string;
  category: FindingCategory;
  references?: readonly string[];
}

/** Every rule the scan ran, sorted by id. */
export function ruleCatalog(parts: {
  // biome-ignore lint/suspicious/noExplicitAny: each rule set has its own Doc type
  ruleSets: readonly RuleSet<any>[];
  detectors: readonly Detector[];
  deps: boolean;
}): RuleInfo[] {
  const out: RuleInfo[] = [];
  for (const set of parts.ruleSets) {
    for (const r of set.rules) {
      const info: RuleInfo = {
        id: r.id,
        severity: r.severity,
        title: r.title,
        description: r.description,
        category: set.category,
      };
      if (r.references) info.references = r.references;
      out.push(info);
    }
  }
  for (const d of parts.detectors) {
    out.push({
      id: d.id,
      severity: d.severity,
      title: d.title,
      description: d.description,
      category: 'secret',
    });
  }
  if (parts.deps) for (const r of DEP_RULES) out.push({ ...r, category: 'dependency' });
  out.push({ ...SUPPRESSION_RULE, category: 'misconfiguration' });
  return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
