/**
 * Prometheus text exposition format 0.0.4, written by hand: counters and
 * gauges with labels, and one histogram type. Label values are escaped;
 * series are rendered in a stable (sorted) order.
 */
type Labels = Record<string, string>;

function labelText(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  if (keys.length === 0) return '';
  const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
  return `{${keys.map((k) => `${k}="${esc(labels[k] as string)}"`).join(',')}}`;
}

interface Metric {
  render(): string;
}

export class Counter implements Metric {
  readonly #values = new Map<string, number>();
  readonly name: string;
  readonly help: string;
  constructor(name: string, help: string) {
    this.name = name;
    this.help = help;
  }
  inc(labels: Labels = {}, by = 1): void {
    const key = labelText(labels);
    this.#values.set(key, (this.#values.get(key) ?? 0) + by);
  }
  get(labels: Labels = {}): number {
    return this.#values.get(labelText(labels)) ?? 0;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    if (this.#values.size === 0) lines.push(`${this.name} 0`);
    for (const [k, v] of [...this.#values].sort(([a], [b]) => (a < b ? -1 : 1)))
      lines.push(`${this.name}${k} ${v}`);
    return lines.join('\n');
  }
}

/** One unlabelled series whose value is read at scrape time, from a total kept elsewhere. */
class ReadAtScrape implements Metric {
  readonly name: string;
  readonly help: string;
  readonly #type: 'counter' | 'gauge';
  readonly #read: () => number;
  constructor(name: string, help: string, type: 'counter' | 'gauge', read: () => number) {
    this.name = name;
    this.help = help;
    this.#type = type;
    this.#read = read;
  }
  render(): string {
    return `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} ${this.#type}\n${this.name} ${this.#read()}`;
  }
}

/**
 * A counter read at scrape time from a total kept elsewhere (Prometheus'
 * "CounterFunc"): for components outside the server that count on their own,
 * such as the verification cache. `read` must never decrease.
 */
export class CounterFunc extends ReadAtScrape {
  constructor(name: string, help: string, read: () => number) {
    super(name, help, 'counter', read);
  }
}

/** A gauge: its value is read at scrape time. */
export class Gauge extends ReadAtScrape {
  constructor(name: string, help: string, read: () => number) {
    super(name, help, 'gauge', read);
  }
}

export class Histogram implements Metric {
  readonly name: string;
  readonly help: string;
  readonly buckets: readonly number[];
  readonly #counts: number[];
  #sum = 0;
  #count = 0;
  constructor(name: string, help: string, buckets: readonly number[]) {
    this.name = name;
    this.help = help;
    this.buckets = [...buckets].sort((a, b) => a - b);
    this.#counts = this.buckets.map(() => 0);
  }
  observe(value: number): void {
    this.#sum += value;
    this.#count++;
    for (let i = 0; i < this.buckets.length; i++)
      if (value <= (this.buckets[i] as number)) this.#counts[i] = (this.#counts[i] as number) + 1;
  }
  get count(): number {
    return this.#count;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    this.buckets.forEach((b, i) => {
      lines.push(`${this.name}_bucket{le="${b}"} ${this.#counts[i]}`);
    });
    lines.push(`${this.name}_bucket{le="+Inf"} ${this.#count}`);
    lines.push(`${this.name}_sum ${this.#sum}`, `${this.name}_count ${this.#count}`);
    return lines.join('\n');
  }
}

export class MetricsRegistry {
  readonly #metrics: Metric[] = [];
  add<M extends Metric>(m: M): M {
    this.#metrics.push(m);
    return m;
  }
  /** The `/metrics` body (content type `text/plain; version=0.0.4`). */
  render(): string {
    return `${this.#metrics.map((m) => m.render()).join('\n')}\n`;
  }
}

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
