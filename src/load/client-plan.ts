// Which client subscribes to what: the scenario's mix, shared out over the client slots by weight (a seeded
// draw, so a run is repeatable), with its share of slow readers.
import { Prng } from '../ingest/prng.js';
import type { ClientSpec } from './load-client.js';
import type { ClientMix, Scenario } from './scenario.js';

function requestsOf(mix: ClientMix, symbols: readonly string[], slot: number): string[] {
  let syms: string[];
  if (mix.symbols === '*') syms = ['*'];
  else if (mix.symbols === 'one') syms = [symbols[0]!];
  else {
    const n = Math.min(mix.count, symbols.length);
    syms = Array.from({ length: n }, (_, k) => symbols[(slot * n + k) % symbols.length]!);
  }
  if (mix.channel === 'trades') return [JSON.stringify({ op: 'subscribe', id: 't', channel: 'trades', symbols: syms })];
  return mix.intervals.map((interval, k) => JSON.stringify({ op: 'subscribe', id: String(k), channel: mix.channel, interval, symbols: syms }));
}

/** One spec per client slot, `clients` of them; `symbols`: the series the feed has (the first is the hot one). */
export function planClients(s: Scenario, symbols: readonly string[], clients: number, seed = 1): ClientSpec[] {
  const prng = new Prng(seed);
  const rnd = () => prng.next();
  const total = s.mix.reduce((n, m) => n + m.weight, 0);
  return Array.from({ length: clients }, (_, slot) => {
    let x = rnd() * total;
    const mix = s.mix.find((m) => (x -= m.weight) < 0) ?? s.mix[s.mix.length - 1]!;
    return { requests: requestsOf(mix, symbols, slot), encoding: mix.encoding, slow: s.slowReaders !== undefined && rnd() < s.slowReaders.share };
  });
}
