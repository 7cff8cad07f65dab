// Who receives a series: exact-symbol subscriptions, plus pattern subscriptions ('*', 'BTC-*') resolved
// once per series and cached until the subscriptions of that channel and interval change. A pattern only ever
// yields series the client is entitled to; exact symbols are checked when subscribing.
//
// Every operation costs at most linear in what it is given: adding or removing a subscription is O(1) (a
// pattern invalidates only its own scope's cache), and removing a client walks its own subscriptions once —
// a client with tens of thousands of patterns leaves in milliseconds, not seconds.
import { compileSymbolPatterns, isPattern } from '../../contracts/symbol-pattern.js';
import { seriesKey } from './series-book.js';
import type { Channel } from '../ws/protocol.js';

const scopeOf = (channel: Channel, interval: string | undefined): string => `${channel}\u0000${interval ?? ''}`;

export class Subscriptions<C> {
  private readonly exact = new Map<string, Set<C>>();
  /** scope (channel\0interval) → client → its patterns there, each compiled once. */
  private readonly patterns = new Map<string, Map<C, Map<string, (symbol: string) => boolean>>>();
  /** scope → series → its subscribers, as last resolved. */
  private readonly resolved = new Map<string, Map<string, C[]>>();
  /** Every subscription of a client, for counting and for removal on close. */
  private readonly byClient = new Map<C, Set<string>>();
  /** Pattern subscriptions per client (they cost more to resolve, so they have a cap of their own). */
  private readonly patternCount = new Map<C, number>();
  size = 0;

  /** `entitled`: whether a client may receive a symbol (patterns only ever yield those). */
  constructor(private readonly entitled: (c: C, symbol: string) => boolean = () => true) {}

  count(c: C): number {
    return this.byClient.get(c)?.size ?? 0;
  }

  patternsOf(c: C): number {
    return this.patternCount.get(c) ?? 0;
  }

  has(c: C, channel: Channel, interval: string | undefined, symbol: string): boolean {
    return this.byClient.get(c)?.has(seriesKey(channel, interval, symbol)) ?? false;
  }

  /** Returns false when the client already had this subscription. */
  add(c: C, channel: Channel, interval: string | undefined, symbol: string): boolean {
    const id = seriesKey(channel, interval, symbol);
    let mine = this.byClient.get(c);
    if (!mine) this.byClient.set(c, (mine = new Set()));
    if (mine.has(id)) return false;
    mine.add(id);
    this.size++;
    const scope = scopeOf(channel, interval);
    if (isPattern(symbol)) {
      let m = this.patterns.get(scope);
      if (!m) this.patterns.set(scope, (m = new Map()));
      let list = m.get(c);
      if (!list) m.set(c, (list = new Map()));
      list.set(symbol, compileSymbolPatterns([symbol]));
      this.patternCount.set(c, (this.patternCount.get(c) ?? 0) + 1);
      this.resolved.delete(scope);
    } else {
      let set = this.exact.get(id);
      if (!set) this.exact.set(id, (set = new Set()));
      set.add(c);
      this.resolved.get(scope)?.delete(id);
    }
    return true;
  }

  /** Returns false when the client did not have this subscription. */
  remove(c: C, channel: Channel, interval: string | undefined, symbol: string): boolean {
    const id = seriesKey(channel, interval, symbol);
    const mine = this.byClient.get(c);
    if (!mine?.delete(id)) return false;
    this.size--;
    this.forget(c, scopeOf(channel, interval), id, symbol);
    return true;
  }

  /** Drop one subscription's entries (already removed from byClient). */
  private forget(c: C, scope: string, id: string, symbol: string): void {
    if (isPattern(symbol)) {
      const m = this.patterns.get(scope);
      const list = m?.get(c);
      if (list?.delete(symbol)) {
        if (list.size === 0) m!.delete(c);
        if (m!.size === 0) this.patterns.delete(scope);
        const n = (this.patternCount.get(c) ?? 1) - 1;
        if (n > 0) this.patternCount.set(c, n);
        else this.patternCount.delete(c);
      }
      this.resolved.delete(scope);
    } else {
      const set = this.exact.get(id);
      if (set?.delete(c) && set.size === 0) this.exact.delete(id);
      this.resolved.get(scope)?.delete(id);
    }
  }

  removeClient(c: C): void {
    const mine = this.byClient.get(c);
    if (!mine) return;
    this.byClient.delete(c);
    this.size -= mine.size;
    for (const id of mine) {
      const cut = id.lastIndexOf('\u0000');
      this.forget(c, id.slice(0, cut), id, id.slice(cut + 1));
    }
  }

  /** The clients of one series, each once. `id`: its seriesKey, when the caller has it already. */
  subscribers(channel: Channel, interval: string | undefined, symbol: string, id = seriesKey(channel, interval, symbol)): C[] {
    const scope = scopeOf(channel, interval);
    let cache = this.resolved.get(scope);
    let out = cache?.get(id);
    if (out) return out;
    const set = new Set(this.exact.get(id));
    const m = this.patterns.get(scope);
    if (m)
      for (const [c, list] of m) {
        if (set.has(c) || !this.entitled(c, symbol)) continue;
        for (const match of list.values())
          if (match(symbol)) {
            set.add(c);
            break;
          }
      }
    out = [...set];
    if (!cache) this.resolved.set(scope, (cache = new Map()));
    cache.set(id, out);
    return out;
  }
}
