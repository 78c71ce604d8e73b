import { VouchError } from '../../../core/errors.ts';
import { normaliseTarPath } from '../../../sbom/tar.ts';
import { rawStream } from '../source.ts';
import type { Container, Node } from './container.ts';

const MAGIC = '!<arch>\n';

/** Unix ar (System V / GNU long names, BSD `#1/`): .deb, .a. Streamed, member by member. */
export const arContainer: Container = {
  format: 'ar',
  detect: (node) =>
    !node.isDirectory && !node.codec && node.head.toString('latin1', 0, 8) === MAGIC,
  async *members(node: Node, ctx) {
    const r = new Reader(rawStream(node.file)[Symbol.asyncIterator](), node.name);
    try {
      await r.take(8);
      let longNames: Buffer | undefined;
      let index = 0;
      for (;;) {
        const h = await r.take(60, true);
        if (!h) return;
        if (h.toString('latin1', 58, 60) !== '`\n')
          throw r.bad(`bad member header at byte ${r.pos - 60}`);
        const field = (a: number, b: number) => h.toString('latin1', a, b).trim();
        const num = (a: number, b: number, radix: number) => {
          const t = field(a, b);
          if (t === '') return 0;
          if (!(radix === 8 ? /^[0-7]+$/ : /^\d+$/).test(t))
            throw r.bad(`bad number ${JSON.stringify(t)} in member header`);
          return Number.parseInt(t, radix);
        };
        let name = field(0, 16);
        let size = num(48, 58, 10);
        const padded = size + (size % 2);
        if (name === '//') {
          if (size > 16 * 1024 * 1024) throw r.bad('long-name table too large');
          longNames = (await r.take(padded)).subarray(0, size);
          continue;
        }
        if (name === '/' || name === '/SYM64/' || name === '__.SYMDEF') {
          await r.skip(padded);
          continue;
        }
        let bodyPad = padded;
        if (/^\/\d+$/.test(name) && longNames) {
          const off = Number(name.slice(1));
          const end = longNames.indexOf('/\n', off);
          name = longNames.toString('utf8', off, end < 0 ? longNames.length : end);
        } else if (/^#1\/\d+$/.test(name)) {
          const len = Number(name.slice(3));
          if (len > 4096 || len > size) throw r.bad('BSD long name too long');
          name = (await r.take(len)).toString('utf8').replace(/\0+$/, '');
          size -= len;
          bodyPad -= len;
        } else if (name.endsWith('/')) name = name.slice(0, -1);
        if (index >= ctx.limits.maxEntries) {
          throw new VouchError('ARCHIVE_TOO_LARGE', `more than ${ctx.limits.maxEntries} members`, {
            file: node.name,
          });
        }
        const path = normaliseTarPath(name, node.name);
        const start = r.pos;
        let used = false;
        yield {
          meta: {
            path,
            type: 'file',
            size,
            index: index++,
            mtime: num(16, 28, 10),
            uid: num(28, 34, 10),
            gid: num(34, 40, 10),
            mode: num(40, 48, 8) & 0o7777,
          },
          body: () => {
            if (used) throw new Error('ar member body already read');
            used = true;
            return r.stream(size);
          },
        };
        const next = start + bodyPad;
        if (r.pos < next) await r.skip(next - r.pos);
      }
    } finally {
      await r.close();
    }
  },
};

class Reader {
  readonly #it: AsyncIterator<Buffer>;
  readonly #name: string;
  #buf: Buffer = Buffer.alloc(0);
  #done = false;
  pos = 0;

  constructor(it: AsyncIterator<Buffer>, name: string) {
    this.#it = it;
    this.#name = name;
  }

  bad(message: string): VouchError {
    return new VouchError('ARCHIVE_MALFORMED', message, { file: this.#name });
  }

  async #fill(): Promise<boolean> {
    if (this.#done) return false;
    const r = await this.#it.next();
    if (r.done) {
      this.#done = true;
      return false;
    }
    this.#buf = this.#buf.length ? Buffer.concat([this.#buf, r.value]) : r.value;
    return true;
  }

  async take(n: number, eofOk: true): Promise<Buffer | undefined>;
  async take(n: number): Promise<Buffer>;
  async take(n: number, eofOk = false): Promise<Buffer | undefined> {
    while (this.#buf.length < n) {
      if (!(await this.#fill())) {
        // A trailing newline pad after the last member is tolerated.
        if (eofOk && this.#buf.length <= 1) return undefined;
        throw this.bad(`truncated at byte ${this.pos + this.#buf.length}`);
      }
    }
    const out = this.#buf.subarray(0, n);
    this.#buf = this.#buf.subarray(n);
    this.pos += n;
    return out;
  }

  async skip(n: number): Promise<void> {
    let left = n;
    while (left > 0) {
      if (this.#buf.length === 0 && !(await this.#fill())) {
        // GNU ar may omit the last pad byte.
        if (left === 1) return;
        throw this.bad(`truncated at byte ${this.pos}`);
      }
      const k = Math.min(left, this.#buf.length);
      this.#buf = this.#buf.subarray(k);
      this.pos += k;
      left -= k;
    }
  }

  async *stream(n: number): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (this.#buf.length === 0 && !(await this.#fill()))
        throw this.bad(`truncated at byte ${this.pos}`);
      const k = Math.min(left, this.#buf.length);
      const out = this.#buf.subarray(0, k);
      this.#buf = this.#buf.subarray(k);
      this.pos += k;
      left -= k;
      yield out;
    }
  }

  async close(): Promise<void> {
    if (!this.#done) await this.#it.return?.();
  }
}
