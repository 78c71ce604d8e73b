/**
 * Finds where JSON text first goes wrong. V8's JSON.parse messages no longer
 * carry a position, and a user fixing a 2 MB bundle needs a line and column.
 * Used only after JSON.parse failed, so it favours clarity over speed.
 * Returns the offset of the first offending character (text.length for
 * truncated input) and a short reason.
 */
export function locateJsonError(text: string): { offset: number; reason: string } {
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i] as string)) i++;
  };
  const fail = (reason: string) => {
    throw { offset: i, reason: i >= text.length ? 'unexpected end of input (truncated?)' : reason };
  };
  const literal = (word: string) => {
    if (text.startsWith(word, i)) i += word.length;
    else fail(`unexpected character ${JSON.stringify(text[i])}`);
  };
  const string = () => {
    i++;
    for (;;) {
      if (i >= text.length) fail('');
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c < 0x20) fail('control character in string');
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
            fail('bad \\u escape');
          }
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else fail('bad escape');
      } else i++;
    }
  };
  const number = () => {
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m || m[0] === '' || m[0] === '-') fail('bad number');
    i += (m as RegExpExecArray)[0].length;
  };
  // Explicit stack of open containers, so hostile nesting cannot overflow ours.
  const stack: Array<'{' | '['> = [];
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{' || c === '[') {
      stack.push(c);
      i++;
      ws();
      const close = c === '{' ? '}' : ']';
      if (text[i] === close) {
        stack.pop();
        i++;
        return;
      }
      member();
      return;
    }
    if (c === '"') string();
    else if (c === 't') literal('true');
    else if (c === 'f') literal('false');
    else if (c === 'n') literal('null');
    else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) number();
    else fail(`unexpected character ${JSON.stringify(c)}`);
  };
  const member = () => {
    if (stack.at(-1) === '{') {
      ws();
      if (text[i] !== '"') fail('expected a property name in double quotes');
      string();
      ws();
      if (text[i] !== ':') fail("expected ':' after property name");
      i++;
    }
    value();
  };
  try {
    member();
    // After the first value, unwind containers one separator at a time.
    for (;;) {
      ws();
      const top = stack.at(-1);
      if (top === undefined) break;
      const close = top === '{' ? '}' : ']';
      if (text[i] === ',') {
        i++;
        member();
      } else if (text[i] === close) {
        stack.pop();
        i++;
      } else fail(`expected ',' or '${close}'`);
    }
    if (i < text.length) fail('unexpected text after the JSON value');
  } catch (e) {
    if (typeof e === 'object' && e !== null && 'offset' in e)
      return e as { offset: number; reason: string };
    throw e;
  }
  return { offset: text.length, reason: 'not valid JSON' };
}
