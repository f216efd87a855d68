// Progress of long work: a one-line bar on a TTY, JSON lines otherwise (for logs and CI),
// or a callback. Every event is also what callers get in their callbacks.

export interface ProgressEvent {
  stage: string;
  /** What is counted: 'batch', 'epoch', 'volume', 'window', ... */
  unit: string;
  done: number;
  total: number | null;
  epoch?: number;
  epochs?: number;
  /** Numbers worth showing (loss, lr, dice, ...). */
  values?: Record<string, number>;
  message?: string;
}

export type ProgressMode = 'auto' | 'bar' | 'json' | 'none' | ((event: ProgressEvent) => void);

export interface ProgressSink {
  update(event: ProgressEvent): void;
  /** A line that stays (an epoch summary, a stage result). */
  log(event: ProgressEvent): void;
  done(): void;
}

function format(values: Record<string, number> | undefined): string {
  if (!values) return '';
  return Object.entries(values)
    .map(([k, v]) => `${k} ${Math.abs(v) >= 1e-3 || v === 0 ? v.toFixed(4).replace(/\.?0+$/, '') : v.toExponential(2)}`)
    .join('  ');
}

class BarSink implements ProgressSink {
  #last = 0;
  constructor(private readonly stream: NodeJS.WriteStream) {}

  update(e: ProgressEvent): void {
    const now = Date.now();
    if (now - this.#last < 100 && e.done !== e.total) return;
    this.#last = now;
    const width = 24;
    const frac = e.total ? Math.min(e.done / e.total, 1) : 0;
    const bar = e.total ? `[${'#'.repeat(Math.round(frac * width)).padEnd(width, '.')}] ` : '';
    const epoch = e.epoch !== undefined ? `epoch ${e.epoch + 1}${e.epochs ? `/${e.epochs}` : ''} ` : '';
    const line = `${e.stage} ${epoch}${bar}${e.done}${e.total ? `/${e.total}` : ''} ${e.unit}s  ${format(e.values)}`;
    const cols = this.stream.columns ?? 120;
    this.stream.write(`\r${line.slice(0, cols - 1).padEnd(Math.min(cols - 1, line.length + 8))}`);
  }

  log(e: ProgressEvent): void {
    this.stream.write(`\r\x1b[2K${e.stage}${e.epoch !== undefined ? ` epoch ${e.epoch + 1}` : ''}: ${e.message ?? ''} ${format(e.values)}\n`);
  }

  done(): void {
    this.stream.write('\r\x1b[2K');
  }
}

class JsonSink implements ProgressSink {
  #last = 0;
  constructor(private readonly stream: NodeJS.WritableStream) {}

  update(e: ProgressEvent): void {
    // one line every few seconds at most, so a log stays readable
    const now = Date.now();
    if (now - this.#last < 5000 && e.done !== e.total) return;
    this.#last = now;
    this.stream.write(JSON.stringify({ type: 'progress', time: new Date().toISOString(), ...e }) + '\n');
  }

  log(e: ProgressEvent): void {
    this.stream.write(JSON.stringify({ type: 'log', time: new Date().toISOString(), ...e }) + '\n');
  }

  done(): void {}
}

const silent: ProgressSink = { update() {}, log() {}, done() {} };

export function progressSink(mode: ProgressMode = 'auto'): ProgressSink {
  if (typeof mode === 'function') return { update: mode, log: mode, done() {} };
  if (mode === 'none') return silent;
  if (mode === 'bar' || (mode === 'auto' && process.stderr.isTTY)) return new BarSink(process.stderr);
  return new JsonSink(process.stderr);
}
