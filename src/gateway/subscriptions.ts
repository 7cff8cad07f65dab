// Who receives a stream: exact-symbol subscriptions, plus pattern subscriptions ('*', 'BTC-*') resolved
// once per stream and cached until subscriptions change. A pattern only ever yields streams the client is
// entitled to; exact symbols are checked when subscribing.
import { compileSymbolPatterns, isPattern } from '../symbol-pattern.js';
import { streamKey } from './streams.js';
import type { Channel } from './protocol.js';

interface PatternSub {
  pattern: string;
  match: (symbol: string) => boolean;
}

export class Subscriptions<C> {
  private readonly exact = new Map<string, Set<C>>();
  /** channel\0interval → client → its patterns there. */
  private readonly patterns = new Map<string, Map<C, PatternSub[]>>();
  private readonly resolved = new Map<string, C[]>();
  /** Every subscription of a client, for counting and for removal on close. */
  private readonly byClient = new Map<C, Set<string>>();
  size = 0;

  /** `entitled`: whether a client may receive a symbol (patterns only ever yield those). */
  constructor(private readonly entitled: (c: C, symbol: string) => boolean = () => true) {}

  private static id(channel: Channel, interval: string | undefined, symbol: string): string {
    return streamKey(channel, interval, symbol);
  }

  count(c: C): number {
    return this.byClient.get(c)?.size ?? 0;
  }

  has(c: C, channel: Channel, interval: string | undefined, symbol: string): boolean {
    return this.byClient.get(c)?.has(Subscriptions.id(channel, interval, symbol)) ?? false;
  }

  /** Returns false when the client already had this subscription. */
  add(c: C, channel: Channel, interval: string | undefined, symbol: string): boolean {
    const id = Subscriptions.id(channel, interval, symbol);
    let mine = this.byClient.get(c);
    if (!mine) this.byClient.set(c, (mine = new Set()));
    if (mine.has(id)) return false;
    mine.add(id);
    this.size++;
    if (isPattern(symbol)) {
      const scope = `${channel}\u0000${interval ?? ''}`;
      let m = this.patterns.get(scope);
      if (!m) this.patterns.set(scope, (m = new Map()));
      const list = m.get(c) ?? [];
      list.push({ pattern: symbol, match: compileSymbolPatterns([symbol]) });
      m.set(c, list);
      this.resolved.clear();
    } else {
      let set = this.exact.get(id);
      if (!set) this.exact.set(id, (set = new Set()));
      set.add(c);
      this.resolved.delete(id);
    }
    return true;
  }

  /** Returns false when the client did not have this subscription. */
  remove(c: C, channel: Channel, interval: string | undefined, symbol: string): boolean {
    const id = Subscriptions.id(channel, interval, symbol);
    const mine = this.byClient.get(c);
    if (!mine?.delete(id)) return false;
    this.size--;
    if (isPattern(symbol)) {
      const scope = `${channel}\u0000${interval ?? ''}`;
      const m = this.patterns.get(scope);
      const list = m?.get(c)?.filter((p) => p.pattern !== symbol);
      if (m && list?.length) m.set(c, list);
      else m?.delete(c);
      this.resolved.clear();
    } else {
      this.exact.get(id)?.delete(c);
      this.resolved.delete(id);
    }
    return true;
  }

  removeClient(c: C): void {
    const mine = this.byClient.get(c);
    if (!mine) return;
    for (const id of [...mine]) {
      const [channel, interval, symbol] = id.split('\u0000') as [Channel, string, string];
      this.remove(c, channel, interval === '' ? undefined : interval, symbol);
    }
    this.byClient.delete(c);
  }

  /** The clients of one stream, each once. */
  subscribers(channel: Channel, interval: string | undefined, symbol: string): C[] {
    const id = Subscriptions.id(channel, interval, symbol);
    let out = this.resolved.get(id);
    if (out) return out;
    const set = new Set(this.exact.get(id));
    const m = this.patterns.get(`${channel}\u0000${interval ?? ''}`);
    if (m) for (const [c, list] of m) if (!set.has(c) && this.entitled(c, symbol) && list.some((p) => p.match(symbol))) set.add(c);
    out = [...set];
    this.resolved.set(id, out);
    return out;
  }
}
