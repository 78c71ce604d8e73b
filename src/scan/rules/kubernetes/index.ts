/** The Kubernetes manifest rule set (plain YAML, multi-document, rendered Helm/kustomize). */
import type { RuleSet } from '../../rule.ts';
import { type Manifests, parseManifests } from './parse.ts';
import { KUBERNETES_RULES } from './rules.ts';

export const kubernetesRuleSet: RuleSet<Manifests> = {
  name: 'k8s',
  category: 'misconfiguration',
  matches(path, firstBytes) {
    if (!/\.ya?ml$/i.test(path) && path !== '-') return false;
    if (firstBytes === undefined) return false;
    // Unrendered Helm templates are not YAML: render them and scan stdin.
    if (/(?:^|\/)templates\//.test(path) && firstBytes.includes('{{')) return false;
    return /^apiVersion:\s*\S/m.test(firstBytes) && /^kind:\s*\S/m.test(firstBytes);
  },
  parse: parseManifests,
  rules: KUBERNETES_RULES,
};
