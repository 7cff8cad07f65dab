// A live-chart client for long runs: subscribes to every symbol's bars at one interval and records, per series,
// sequence gaps and every final bar version, so a test can check that it saw every bar after its snapshot.
import WebSocket from 'ws';
import { barId, diffBars, type OracleBar } from './oracle.js';

interface Series {
  expect: number;
  /** Latest version of each bar seen, by bucket start. */
  bars: Map<number, OracleBar>;
  /** The earliest bucket the client can be expected to hold every bar from (its snapshot's oldest bar, else its first delta). */
  from: number;
}

export interface WatchReport {
  series: number;
  bars: number;
  gaps: number;
  closes: { code: number; reason: string }[];
  /** Bars the client missed or holds with other values than expected, in the span it was subscribed. */
  diffs: string[];
}

export class WsWatcher {
  private readonly ws: WebSocket;
  private readonly series = new Map<string, Series>();
  private gaps = 0;
  private readonly closes: { code: number; reason: string }[] = [];
  private closing = false;
  readonly opened: Promise<void>;

  constructor(url: string, interval: string) {
    this.ws = new WebSocket(url);
    this.opened = new Promise((resolve, reject) => this.ws.once('open', resolve).once('error', reject));
    this.ws.on('open', () => this.ws.send(JSON.stringify({ op: 'subscribe', channel: 'bars', interval, symbols: '*' })));
    this.ws.on('close', (code, reason) => {
      if (!this.closing) this.closes.push({ code, reason: String(reason) });
    });
    this.ws.on('message', (data) => this.onMessage(String(data)));
  }

  private onMessage(text: string): void {
    const m = JSON.parse(text) as { type: string; symbol?: string; interval?: string; seq?: number; bars?: OracleBar[]; bar?: OracleBar };
    if (m.type === 'snapshot') {
      const bars = new Map(m.bars!.map((b) => [b.bucketStart, b]));
      const from = bars.size ? Math.min(...bars.keys()) : Infinity;
      this.series.set(`${m.symbol}|${m.interval}`, { expect: m.seq! + 1, bars, from });
    } else if (m.type === 'bar') {
      const b = m.bar!;
      const key = `${b.symbol}|${b.interval}`;
      let s = this.series.get(key);
      // A series that appeared after the subscription to '*' starts with its first delta (seq 1).
      if (!s) this.series.set(key, (s = { expect: 1, bars: new Map(), from: b.bucketStart }));
      if (m.seq !== s.expect) this.gaps++;
      s.expect = m.seq! + 1;
      const prev = s.bars.get(b.bucketStart);
      if (!prev || b.revision >= prev.revision) s.bars.set(b.bucketStart, b);
      if (b.bucketStart < s.from) s.from = b.bucketStart;
    }
  }

  /** Compare what the client saw with the expected final bars of its interval. */
  report(expected: OracleBar[]): WatchReport {
    const byStream = new Map<string, OracleBar[]>();
    for (const b of expected) {
      const k = `${b.symbol}|${b.interval}`;
      const list = byStream.get(k);
      if (list) list.push(b);
      else byStream.set(k, [b]);
    }
    const diffs: string[] = [];
    let bars = 0;
    for (const [key, s] of this.series) {
      const seen = [...s.bars.values()];
      bars += seen.length;
      const want = (byStream.get(key) ?? []).filter((b) => b.bucketStart >= s.from);
      diffs.push(...diffBars(seen, want, 3));
    }
    // SeriesBook with expected bars the client never heard of at all.
    const interval = expected[0]?.interval;
    for (const [key, list] of byStream)
      if (!this.series.has(key) && list.length && list[0]!.interval === interval) diffs.push(`series ${key} never seen (first ${barId(list[0]!)})`);
    return { series: this.series.size, bars, gaps: this.gaps, closes: [...this.closes], diffs: diffs.slice(0, 20) };
  }

  /** Stop listening (what was seen stays for report). */
  close(): void {
    if (this.closing) return;
    this.closing = true;
    this.ws.close();
  }
}
