import { VouchError } from '../../core/errors.ts';
import { ResultBuilder } from '../builder.ts';
import type { ReaderResult, Scope } from '../model.ts';
import type { Reader, SourceFile } from '../reader.ts';
import { child, childText, parseXml, type XmlElement } from './maven-xml.ts';

/**
 * Maven pom.xml: the project (root) and its declared `<dependencies>` only.
 * Versions come from the dependency itself or `<dependencyManagement>`, with
 * `${…}` from `<properties>` and `project.*`; a version that lives in a
 * parent POM or an imported BOM cannot be known offline from this file and
 * the dependency is skipped with that reason. The result is always marked
 * incomplete: transitive dependencies need a resolved lockfile or the built
 * artifact. Dependencies in `<profiles>` depend on activation and are skipped.
 */
export const mavenPomReader: Reader = {
  name: 'maven-pom',
  matches: (path) => /(^|\/)pom\.xml$/.test(path),
  read,
};

export const POM_INCOMPLETE =
  'pom.xml declares direct dependencies only; transitive ones need a resolved lockfile or the built artifact';

async function read(file: SourceFile): Promise<ReaderResult> {
  const project = parseXml((await file.bytes()).toString('utf8'), file.path);
  if (project.name !== 'project') {
    throw new VouchError('LOCKFILE_MALFORMED', `root element is <${project.name}>, not <project>`, {
      file: file.path,
    });
  }
  const b = new ResultBuilder(
    file.path,
    'maven-pom',
    `pom.xml ${childText(project, 'modelVersion') ?? ''}`.trim(),
  );
  b.incomplete(POM_INCOMPLETE);
  const parent = child(project, 'parent');
  const props = new Map<string, string>();
  for (const p of child(project, 'properties')?.children ?? []) props.set(p.name, p.text.trim());
  const groupId = childText(project, 'groupId') ?? childText(parent, 'groupId');
  const artifactId = childText(project, 'artifactId');
  const rawVersion = childText(project, 'version') ?? childText(parent, 'version');
  const builtins: Record<string, string | undefined> = {
    'project.groupId': groupId,
    'project.artifactId': artifactId,
    'project.version': rawVersion,
    'pom.version': rawVersion,
    version: rawVersion,
    'project.parent.groupId': childText(parent, 'groupId'),
    'project.parent.version': childText(parent, 'version'),
    'parent.version': childText(parent, 'version'),
  };
  const interpolate = (s: string | undefined): { value?: string; missing?: string } => {
    if (s === undefined) return {};
    let out = s;
    for (let round = 0; round < 10 && out.includes('${'); round++) {
      let missing: string | undefined;
      out = out.replace(/\$\{([^}]+)\}/g, (all, k: string) => {
        const v = props.get(k) ?? builtins[k];
        if (v === undefined) missing = k;
        return v ?? all;
      });
      if (missing) return { missing };
    }
    return out.includes('${') ? { missing: out } : { value: out };
  };

  b.declare();
  const v = interpolate(rawVersion).value ?? '';
  if (!groupId || !artifactId) {
    throw new VouchError('LOCKFILE_MALFORMED', 'project without groupId and artifactId', {
      file: file.path,
    });
  }
  const root = b.add({
    ecosystem: 'maven',
    namespace: interpolate(groupId).value ?? groupId,
    name: artifactId,
    version: v,
    source: { kind: 'workspace' },
  });
  b.root(root);

  const managed = new Map<string, { version?: string; scope?: string }>();
  const boms: string[] = [];
  for (const d of child(child(project, 'dependencyManagement'), 'dependencies')?.children ?? []) {
    if (d.name !== 'dependency') continue;
    const g = interpolate(childText(d, 'groupId')).value;
    const a = interpolate(childText(d, 'artifactId')).value;
    const ver = interpolate(childText(d, 'version')).value;
    if (childText(d, 'scope') === 'import') {
      boms.push(`${g}:${a}:${ver ?? '?'}`);
      continue;
    }
    const m: { version?: string; scope?: string } = {};
    if (ver) m.version = ver;
    const sc = childText(d, 'scope');
    if (sc) m.scope = sc;
    managed.set(`${g}:${a}`, m);
  }

  const deps = (child(project, 'dependencies')?.children ?? []).filter(
    (d) => d.name === 'dependency',
  );
  deps.forEach((d: XmlElement, i: number) => {
    b.declare();
    const g = interpolate(childText(d, 'groupId'));
    const a = interpolate(childText(d, 'artifactId'));
    const entry = `dependencies/dependency[${i + 1}] ${childText(d, 'groupId')}:${childText(d, 'artifactId')}`;
    if (!g.value || !a.value) {
      b.skip(
        entry,
        g.missing || a.missing
          ? `unresolved property \${${g.missing ?? a.missing}}`
          : 'no groupId or artifactId',
      );
      return;
    }
    const m = managed.get(`${g.value}:${a.value}`);
    const declared = childText(d, 'version');
    const ver = declared !== undefined ? interpolate(declared) : { value: m?.version };
    if (!ver.value) {
      const why = ver.missing
        ? `version uses \${${ver.missing}}, not defined in this pom.xml`
        : boms.length > 0
          ? `version managed by an imported BOM (${boms.join(', ')}), not readable offline from this file`
          : parent
            ? `version inherited from parent ${childText(parent, 'groupId')}:${childText(parent, 'artifactId')}:${childText(parent, 'version')}, not read`
            : 'no version';
      b.skip(entry, why);
      return;
    }
    const mavenScope = childText(d, 'scope') ?? m?.scope ?? 'compile';
    let scope: Scope =
      mavenScope === 'test' ? 'dev' : mavenScope === 'provided' ? 'optional' : 'required';
    if (childText(d, 'optional') === 'true' && scope === 'required') scope = 'optional';
    const properties: Record<string, string> = { 'maven:scope': mavenScope };
    const type = childText(d, 'type');
    const classifier = childText(d, 'classifier');
    const qualifiers: Record<string, string> = {};
    if (type && type !== 'jar') qualifiers.type = type;
    if (classifier) qualifiers.classifier = classifier;
    const ref = b.add({
      ecosystem: 'maven',
      namespace: g.value,
      name: a.value,
      version: ver.value,
      scope,
      properties,
      qualifiers,
    });
    b.depend(root, ref);
  });
  for (const p of child(project, 'profiles')?.children ?? []) {
    for (const d of child(p, 'dependencies')?.children ?? []) {
      if (d.name !== 'dependency') continue;
      b.declare();
      b.skip(
        `profile ${childText(p, 'id') ?? '?'} ${childText(d, 'groupId')}:${childText(d, 'artifactId')}`,
        'dependency in a profile: depends on profile activation',
      );
    }
  }
  return b.build();
}
