import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { deflateRawSync } from 'node:zlib';
import { gradleLockfileReader } from './gradle-lockfile.ts';
import { javaArchiveReader, MAX_NESTING } from './java-archive.ts';
import { mavenPomReader, POM_INCOMPLETE } from './maven-pom.ts';
import { byPurl, checkResult, fileAt, fileOf, rejectsWith, VECTORS } from './polyglot-testkit.ts';

test('gradle.lockfile: real JabRef lockfile', async () => {
  const p = join(VECTORS, 'gradle_jabref/gradle.lockfile');
  const r = await gradleLockfileReader.read(fileAt(p));
  checkResult(r);
  const lines = readFileSync(p, 'utf8')
    .split('\n')
    .filter((l) => l.includes('=') && !l.startsWith('#') && !l.startsWith('empty='));
  assert.equal(lines.length, 199);
  assert.equal(r.components.length, lines.length);
  const shipped = lines.filter((l) =>
    /[=,](compileClasspath|runtimeClasspath)(,|$)/.test(l),
  ).length;
  assert.equal(r.components.filter((c) => c.scope === 'required').length, shipped);
  const guava = byPurl(r, 'pkg:maven/com.google.guava/guava@31.1-jre');
  assert.equal(guava.scope, 'required');
  assert.match(guava.properties?.['gradle:configurations'] ?? '', /^checkstyle,compile,/);
  assert.equal(byPurl(r, 'pkg:maven/com.google.code.findbugs/jsr305@3.0.2').scope, 'dev'); // checkstyle only
  const test1 = lines.find((l) => /=test[A-Z]\w*(,test[A-Z]\w*)*$/.test(l));
  if (test1) {
    const [g, a, v] = (test1.split('=')[0] as string).split(':');
    assert.equal(byPurl(r, `pkg:maven/${g}/${a}@${v}`).scope, 'dev');
  }
});

test('gradle lockfiles: legacy per-configuration file, malformed line', async () => {
  const r = await gradleLockfileReader.read(
    fileOf('gradle/dependency-locks/testRuntimeClasspath.lockfile', '# c\norg.junit:junit:4.13\n'),
  );
  checkResult(r);
  assert.equal(byPurl(r, 'pkg:maven/org.junit/junit@4.13').scope, 'dev');
  await rejectsWith(
    gradleLockfileReader.read(fileOf('gradle.lockfile', 'a:b:1=compile\nnot a line\n')),
    'LOCKFILE_MALFORMED',
    'gradle.lockfile',
    /line 2/,
  );
});

test('pom.xml: real cyclonedx-core-java pom, declared only, BOM-managed versions skipped', async () => {
  const p = join(VECTORS, 'maven_cyclonedx-core-java/pom.xml');
  const r = await mavenPomReader.read(fileAt(p));
  checkResult(r);
  assert.equal(r.accounting.incomplete, true);
  assert.equal(r.accounting.incompleteReason, POM_INCOMPLETE);
  // Independent: <dependency> elements inside the project's <dependencies> (not dependencyManagement).
  const xml = readFileSync(p, 'utf8').replace(/<!--[\s\S]*?-->/g, '');
  const mgmtEnd = xml.indexOf('</dependencyManagement>');
  const deps = xml.slice(mgmtEnd, xml.indexOf('</dependencies>', mgmtEnd));
  const all = deps.match(/<dependency>[\s\S]*?<\/dependency>/g) ?? [];
  const versioned = all.filter((d) => d.includes('<version>'));
  assert.equal(all.length, 9);
  assert.equal(r.accounting.declared, 1 + all.length);
  assert.equal(r.components.length, 1 + versioned.length);
  assert.equal(r.accounting.skipped.length, all.length - versioned.length);
  assert.match(
    r.accounting.skipped[0]?.reason ?? '',
    /imported BOM \(com\.fasterxml\.jackson:jackson-bom:2\.22\.1/,
  );
  assert.equal(
    byPurl(r, 'pkg:maven/com.github.package-url/packageurl-java@1.5.0').scope,
    'required',
  );
  assert.equal(byPurl(r, 'pkg:maven/org.assertj/assertj-core@3.27.7').scope, 'dev');
  assert.deepEqual(r.roots, ['pkg:maven/org.cyclonedx/cyclonedx-core-java@13.2.0-SNAPSHOT']);
});

test('pom.xml: properties, project.version, dependencyManagement, provided/optional, profiles, XXE refused', async () => {
  const pom = `<?xml version="1.0"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>org.ex</groupId><artifactId>app</artifactId><version>2.0</version>
  <properties><lib.version>1.5</lib.version><nested>\${lib.version}</nested></properties>
  <dependencyManagement><dependencies>
    <dependency><groupId>org.m</groupId><artifactId>managed</artifactId><version>3.3</version><scope>provided</scope></dependency>
  </dependencies></dependencyManagement>
  <dependencies>
    <dependency><groupId>org.a</groupId><artifactId>a</artifactId><version>\${nested}</version></dependency>
    <dependency><groupId>org.ex</groupId><artifactId>sibling</artifactId><version>\${project.version}</version></dependency>
    <dependency><groupId>org.m</groupId><artifactId>managed</artifactId></dependency>
    <dependency><groupId>org.o</groupId><artifactId>opt</artifactId><version>1</version><optional>true</optional></dependency>
    <dependency><groupId>org.u</groupId><artifactId>u</artifactId><version>\${nope}</version></dependency>
  </dependencies>
  <profiles><profile><id>x</id><dependencies><dependency><groupId>p</groupId><artifactId>p</artifactId><version>1</version></dependency></dependencies></profile></profiles>
</project>`;
  const r = await mavenPomReader.read(fileOf('pom.xml', pom));
  checkResult(r);
  assert.equal(byPurl(r, 'pkg:maven/org.a/a@1.5').scope, 'required');
  byPurl(r, 'pkg:maven/org.ex/sibling@2.0');
  assert.equal(byPurl(r, 'pkg:maven/org.m/managed@3.3').scope, 'optional');
  assert.equal(byPurl(r, 'pkg:maven/org.o/opt@1').scope, 'optional');
  const reasons = r.accounting.skipped.map((s) => s.reason);
  assert.equal(reasons.length, 2);
  assert.match(reasons[0] ?? '', /^version uses \$\{nope\}, not defined in this pom\.xml$/);
  assert.equal(reasons[1], 'dependency in a profile: depends on profile activation');
  const xxe =
    '<?xml version="1.0"?><!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]><project>&x;</project>';
  await rejectsWith(
    mavenPomReader.read(fileOf('pom.xml', xxe)),
    'LOCKFILE_UNSUPPORTED',
    'pom.xml',
    /DOCTYPE/,
  );
  await rejectsWith(
    mavenPomReader.read(fileOf('pom.xml', '<project>\n<dependencies>\n</project>')),
    'LOCKFILE_MALFORMED',
    'pom.xml',
    /line 3/,
  );
});

/** A zip writer for tests: stored or deflated entries, optional lies in the directory. */
function zip(
  entries: Array<{ name: string; data: Buffer | string; store?: boolean; claimSize?: number }>,
): Buffer {
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const data = Buffer.from(e.data);
    const body = e.store ? data : deflateRawSync(data);
    const name = Buffer.from(e.name);
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0);
    lh.writeUInt16LE(e.store ? 0 : 8, 8);
    lh.writeUInt32LE(body.length, 18);
    lh.writeUInt32LE(e.claimSize ?? data.length, 22);
    lh.writeUInt16LE(name.length, 26);
    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0);
    ch.writeUInt16LE(e.store ? 0 : 8, 10);
    ch.writeUInt32LE(body.length, 20);
    ch.writeUInt32LE(e.claimSize ?? data.length, 24);
    ch.writeUInt16LE(name.length, 28);
    ch.writeUInt32LE(offset, 42);
    locals.push(lh, name, body);
    central.push(ch, name);
    offset += 30 + name.length + body.length;
  }
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

const pomProps = (g: string, a: string, v: string) => ({
  name: `META-INF/maven/${g}/${a}/pom.properties`,
  data: `#Generated\ngroupId=${g}\nartifactId=${a}\nversion=${v}\n`,
});

test('JAR: real jars made with the JDK jar tool, nested in a WAR', {
  skip: !hasJar() && 'no jar tool',
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vouch-jar-'));
  try {
    mkdirSync(join(dir, 'lib/META-INF/maven/org.example/lib'), { recursive: true });
    writeFileSync(
      join(dir, 'lib/META-INF/maven/org.example/lib/pom.properties'),
      'groupId=org.example\nartifactId=lib\nversion=1.2.3\n',
    );
    writeFileSync(join(dir, 'lib/A.txt'), 'a');
    mkdirSync(join(dir, 'war/WEB-INF/lib'), { recursive: true });
    execFileSync('jar', [
      'cf',
      join(dir, 'war/WEB-INF/lib/lib-1.2.3.jar'),
      '-C',
      join(dir, 'lib'),
      '.',
    ]);
    mkdirSync(join(dir, 'osgi'));
    writeFileSync(join(dir, 'osgi/B.txt'), 'b');
    writeFileSync(
      join(dir, 'mf.txt'),
      'Bundle-SymbolicName: org.example.osgi;singleton:=true\nBundle-Version: 4.5.6\n',
    );
    execFileSync('jar', [
      'cfm',
      join(dir, 'war/WEB-INF/lib/osgi.jar'),
      join(dir, 'mf.txt'),
      '-C',
      join(dir, 'osgi'),
      '.',
    ]);
    writeFileSync(
      join(dir, 'app.txt'),
      'Implementation-Title: app\nImplementation-Version: 9.9\nImplementation-Vendor-Id: org.example\n',
    );
    execFileSync('jar', [
      'cfm',
      join(dir, 'app.war'),
      join(dir, 'app.txt'),
      '-C',
      join(dir, 'war'),
      '.',
    ]);
    const r = await javaArchiveReader.read(fileAt(join(dir, 'app.war')));
    checkResult(r);
    assert.equal(r.accounting.declared, 3);
    assert.deepEqual(r.roots, ['pkg:maven/org.example/app@9.9']);
    const lib = byPurl(r, 'pkg:maven/org.example/lib@1.2.3');
    assert.equal(lib.properties?.['java:archive'], 'app.war!/WEB-INF/lib/lib-1.2.3.jar');
    const inner = execFileSync('unzip', ['-p', join(dir, 'app.war'), 'WEB-INF/lib/lib-1.2.3.jar']);
    const sha1 = (await import('node:crypto')).createHash('sha1').update(inner).digest('hex');
    assert.equal(lib.hashes.find((h) => h.algorithm === 'SHA-1')?.value, sha1);
    assert.equal(
      byPurl(r, 'pkg:maven/org.example/osgi@4.5.6').properties?.['java:identifiedBy'],
      'MANIFEST.MF Bundle-*',
    );
    assert.deepEqual(r.dependencies[0]?.dependsOn.length, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function hasJar(): boolean {
  try {
    execFileSync('jar', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

test('JAR: shaded poms, file-name fallback, unidentifiable, nesting depth', async () => {
  const shaded = zip([
    pomProps('org.s', 'shaded', '1.0'),
    pomProps('org.b', 'bundled', '2.0'),
    { name: 'META-INF/MANIFEST.MF', data: 'Manifest-Version: 1.0\n' },
  ]);
  const r = await javaArchiveReader.read(fileOf('shaded.jar', shaded));
  checkResult(r);
  assert.equal(r.components.length, 2);
  assert.ok(
    r.components.every((c) => c.hashes.length === 0),
    'a shaded jar hash belongs to no single pom',
  );

  const named = await javaArchiveReader.read(
    fileOf('lib/commons-io-2.16.1.jar', zip([{ name: 'x.class', data: 'x' }])),
  );
  assert.equal(named.components[0]?.purl, 'pkg:generic/commons-io@2.16.1');
  const none = await javaArchiveReader.read(
    fileOf('lib/thing.jar', zip([{ name: 'x.class', data: 'x' }])),
  );
  checkResult(none);
  assert.equal(none.accounting.skipped.length, 1);

  // Six levels of jars in jars: the ones past MAX_NESTING are skipped with the reason.
  let inner = zip([pomProps('org.n', 'n6', '6')]);
  for (let i = 5; i >= 0; i--)
    inner = zip([
      pomProps('org.n', `n${i}`, String(i)),
      { name: `lib/n${i + 1}.jar`, data: inner, store: true },
    ]);
  const deep = await javaArchiveReader.read(fileOf('n.jar', inner));
  checkResult(deep);
  assert.equal(deep.components.length, MAX_NESTING + 1);
  assert.match(deep.accounting.skipped[0]?.reason ?? '', /nested deeper than 4 archives/);
});

test('JAR: path traversal, zip bomb, lying sizes, not a zip, broken nested jar', async () => {
  await rejectsWith(
    javaArchiveReader.read(fileOf('evil.jar', zip([{ name: '../../etc/cron.d/x', data: 'x' }]))),
    'PATH_ESCAPE',
    'evil.jar',
  );
  // 64 MiB of zeros deflates to ~64 KiB: ratio ~1000:1.
  const bomb = zip([{ name: 'META-INF/MANIFEST.MF', data: Buffer.alloc(64 * 1024 * 1024) }]);
  assert.ok(bomb.length < 200 * 1024);
  await rejectsWith(
    javaArchiveReader.read(fileOf('bomb.jar', bomb)),
    'ARCHIVE_TOO_LARGE',
    'bomb.jar',
    /zip bomb/,
  );
  const liar = zip([
    {
      name: 'META-INF/MANIFEST.MF',
      data: 'Implementation-Title: x\nImplementation-Version: 1\n'.repeat(50),
      claimSize: 10,
    },
  ]);
  await rejectsWith(
    javaArchiveReader.read(fileOf('liar.jar', liar)),
    'ARCHIVE_MALFORMED',
    'liar.jar',
  );
  await rejectsWith(
    javaArchiveReader.read(fileOf('text.jar', 'not a zip')),
    'ARCHIVE_MALFORMED',
    'text.jar',
  );
  const outer = zip([
    pomProps('org.o', 'outer', '1'),
    { name: 'BOOT-INF/lib/broken.jar', data: 'garbage', store: true },
  ]);
  const r = await javaArchiveReader.read(fileOf('boot.jar', outer));
  checkResult(r);
  byPurl(r, 'pkg:maven/org.o/outer@1');
  assert.match(r.accounting.skipped[0]?.entry ?? '', /boot\.jar!\/BOOT-INF\/lib\/broken\.jar/);
});
