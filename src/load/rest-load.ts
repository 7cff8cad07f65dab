// REST traffic beside the WebSocket clients: bar history pages (following each answer's cursor) and quotes, at a
// fixed overall rate, through autocannon.
import autocannon from 'autocannon';
import type { RestLoad } from './scenario.js';

export interface RestSummary {
  requests: number;
  errors: number;
  non2xx: number;
  rate: number;
  latency: { p50: number; p90: number; p99: number; max: number; mean: number };
  /** History pages that carried a cursor to a further page. */
  pagesWithNext: number;
}

export interface RestTarget {
  base: string;
  headers: Record<string, string>;
  symbols: readonly string[];
  interval: string;
}

/** What one autocannon connection carries from one history page to the next. */
interface Paging {
  next?: string | undefined;
  symbol?: string;
}

export function runRestLoad(spec: RestLoad, target: RestTarget, durationS: number): { done: Promise<RestSummary>; stop: () => void } {
  let n = 0;
  let pagesWithNext = 0;
  const symbolFor = (i: number) => encodeURIComponent(target.symbols[i % target.symbols.length]!);
  let settle!: (r: RestSummary) => void;
  let fail!: (e: unknown) => void;
  const done = new Promise<RestSummary>((resolve, reject) => {
    settle = resolve;
    fail = reject;
  });
  const instance = autocannon(
    {
      url: target.base,
      connections: spec.connections,
      overallRate: spec.rate,
      duration: Math.max(1, Math.round(durationS)),
      headers: target.headers,
      requests: [
        {
          method: 'GET',
          setupRequest: (req: autocannon.Request, ctx: object) => {
            const context = ctx as Paging;
            const i = n++;
            const kind = spec.kinds[i % spec.kinds.length];
            if (kind === 'quote') return { ...req, path: `/api/v1/quote/${symbolFor(i)}` };
            const cursor = context.next !== undefined ? `&cursor=${encodeURIComponent(context.next)}` : '';
            const sym = context.symbol !== undefined && cursor ? context.symbol : symbolFor(i);
            context.symbol = sym;
            return { ...req, path: `/api/v1/bars/${sym}?interval=${target.interval}&limit=${spec.limit}${cursor}` };
          },
          onResponse: (status: number, body: string, ctx: object) => {
            const context = ctx as Paging;
            if (status !== 200 || !body.startsWith('{"symbol"') || !body.includes('"bars"')) return void (context.next = undefined);
            const m = /"next":"([^"]+)"/.exec(body);
            context.next = m?.[1];
            if (m) pagesWithNext++;
          },
        },
      ],
    },
    (err: Error | null, r: autocannon.Result) => {
      if (err) return fail(err);
      settle({
        requests: r.requests.total,
        errors: r.errors + r.timeouts,
        non2xx: r.non2xx,
        rate: r.requests.average,
        latency: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max, mean: r.latency.average },
        pagesWithNext,
      });
    },
  );
  return { done, stop: () => instance.stop() };
}
