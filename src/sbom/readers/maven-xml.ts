import { VouchError } from '../../core/errors.ts';

/** One XML element: local name (prefix dropped), child elements, and its own text. */
export interface XmlElement {
  name: string;
  children: XmlElement[];
  text: string;
}

const MAX_DEPTH = 256;

/**
 * A small non-validating XML reader, enough for Maven POMs: elements, text,
 * comments, CDATA, processing instructions. A DOCTYPE with an internal subset
 * (where entity expansion bombs and external entities live) is refused, and
 * only the five predefined and numeric character references are decoded.
 *
 * @throws VouchError LOCKFILE_MALFORMED (with the line) | LOCKFILE_UNSUPPORTED
 */
export function parseXml(text: string, file: string): XmlElement {
  const root: XmlElement = { name: '#document', children: [], text: '' };
  const stack: XmlElement[] = [root];
  let i = 0;
  const lineAt = (p: number) => `line ${text.slice(0, p).split('\n').length}`;
  const fail = (msg: string, p = i): VouchError =>
    new VouchError('LOCKFILE_MALFORMED', msg, { file, field: lineAt(p) });
  while (i < text.length) {
    const lt = text.indexOf('<', i);
    const top = stack[stack.length - 1] as XmlElement;
    if (lt < 0) {
      if (text.slice(i).trim() !== '') throw fail('text after the last element');
      break;
    }
    if (lt > i) top.text += decode(text.slice(i, lt));
    i = lt;
    if (text.startsWith('<!--', i)) {
      const end = text.indexOf('-->', i + 4);
      if (end < 0) throw fail('unterminated comment');
      i = end + 3;
    } else if (text.startsWith('<![CDATA[', i)) {
      const end = text.indexOf(']]>', i + 9);
      if (end < 0) throw fail('unterminated CDATA');
      top.text += text.slice(i + 9, end);
      i = end + 3;
    } else if (text.startsWith('<?', i)) {
      const end = text.indexOf('?>', i + 2);
      if (end < 0) throw fail('unterminated processing instruction');
      i = end + 2;
    } else if (text.startsWith('<!DOCTYPE', i)) {
      const end = text.indexOf('>', i);
      const bracket = text.indexOf('[', i);
      if (bracket >= 0 && (end < 0 || bracket < end)) {
        throw new VouchError(
          'LOCKFILE_UNSUPPORTED',
          'DOCTYPE with an internal subset (entities) is refused',
          {
            file,
            field: lineAt(i),
          },
        );
      }
      if (end < 0) throw fail('unterminated DOCTYPE');
      i = end + 1;
    } else if (text.startsWith('</', i)) {
      const end = text.indexOf('>', i);
      if (end < 0) throw fail('unterminated end tag');
      const name = localName(text.slice(i + 2, end).trim());
      if (stack.length < 2 || top.name !== name)
        throw fail(`end tag </${name}> does not match <${top.name}>`);
      stack.pop();
      i = end + 1;
    } else {
      // Start tag; attribute values may contain '>' inside quotes.
      const m = /^<([A-Za-z_][\w.:-]*)((?:\s+[\w.:-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/.exec(
        text.slice(i, i + 64 * 1024),
      );
      if (!m) throw fail('malformed start tag');
      const el: XmlElement = { name: localName(m[1] as string), children: [], text: '' };
      top.children.push(el);
      if (!m[3]) {
        if (stack.length > MAX_DEPTH) throw fail(`nested deeper than ${MAX_DEPTH} elements`);
        stack.push(el);
      }
      i += (m[0] as string).length;
    }
  }
  if (stack.length !== 1)
    throw fail(`unclosed element <${(stack[stack.length - 1] as XmlElement).name}>`, text.length);
  if (root.children.length !== 1) throw fail('not exactly one root element', 0);
  return root.children[0] as XmlElement;
}

function localName(n: string): string {
  const c = n.indexOf(':');
  return c >= 0 ? n.slice(c + 1) : n;
}

function decode(s: string): string {
  return s.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (all, e: string) => {
    if (e === 'lt') return '<';
    if (e === 'gt') return '>';
    if (e === 'amp') return '&';
    if (e === 'quot') return '"';
    if (e === 'apos') return "'";
    const cp = e.startsWith('#x')
      ? Number.parseInt(e.slice(2), 16)
      : Number.parseInt(e.slice(1), 10);
    return cp <= 0x10ffff ? String.fromCodePoint(cp) : all;
  });
}

/** First child element with this name. */
export function child(el: XmlElement | undefined, name: string): XmlElement | undefined {
  return el?.children.find((c) => c.name === name);
}

/** Trimmed text of the first child with this name. */
export function childText(el: XmlElement | undefined, name: string): string | undefined {
  const c = child(el, name);
  return c === undefined ? undefined : c.text.trim();
}
