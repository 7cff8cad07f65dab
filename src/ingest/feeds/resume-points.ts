// Where a restarted venue feed continues: the last trade id per (venue, symbol) already on the ticks topic, read from
// the tail of each partition (at most TE_FEED_RESUME_SCAN records each: a symbol's ticks all go to one partition, in
// id order, so its last one is near the end unless the partition is busy with other symbols). The sequencer continues
// after it: trades the venue re-sends are dropped as duplicates, and the hole between the stop and the first trade of
// the new connection is filled from the venue's history. A symbol not found in that tail starts afresh.
import type { Kafka } from 'kafkajs';
import type { Tick } from '../../contracts/tick.js';
import type { Logger } from '../../log.js';
import { fetchPartition, partitionLeaders } from '../../stream/fetch/index.js';
import { schema } from '../../stream/schemas.js';
import { retriedLookup } from '../../stream/retried-lookup.js';
import { decode } from '../../stream/serde.js';
import { decimalId } from './id-range.js';

export interface ResumeScan {
  /** Per venue symbol, the highest trade id found. */
  points: Map<string, string>;
  /** Records read, and those that were not ticks (left out). */
  records: number;
  undecodable: number;
}

/**
 * Folds ticks into resume points: of `venue`'s ticks of the symbols in `venueSymbolOf` (engine symbol → the venue's
 * name), the highest decimal trade id per venue symbol. Ids that are not decimal (no order) are left out.
 */
export class ResumePoints {
  readonly #last = new Map<string, bigint>();

  constructor(
    private readonly venue: string,
    private readonly venueSymbolOf: ReadonlyMap<string, string>,
  ) {}

  add(tick: Pick<Tick, 'venue' | 'symbol' | 'tradeId'>): void {
    if (tick.venue !== this.venue) return;
    const venueSymbol = this.venueSymbolOf.get(tick.symbol);
    const id = decimalId(tick.tradeId);
    if (venueSymbol === undefined || id === undefined) return;
    const last = this.#last.get(venueSymbol);
    if (last === undefined || id > last) this.#last.set(venueSymbol, id);
  }

  get points(): Map<string, string> {
    return new Map([...this.#last].map(([s, id]) => [s, String(id)]));
  }
}

/** Reads the last `perPartition` records of every partition of `topic` (read_committed) into resume points. */
export async function scanResumePoints(
  kafka: Kafka,
  opts: { topic: string; clientId: string; perPartition: number; venue: string; venueSymbolOf: ReadonlyMap<string, string>; log?: Logger },
): Promise<ResumeScan> {
  const fold = new ResumePoints(opts.venue, opts.venueSymbolOf);
  const out: ResumeScan = { points: new Map(), records: 0, undecodable: 0 };
  if (opts.perPartition <= 0) return out;
  const admin = kafka.admin();
  await admin.connect();
  let ranges: { partition: number; from: number; to: number }[];
  let leaders: Awaited<ReturnType<typeof partitionLeaders>>;
  try {
    const ends = await retriedLookup(() => admin.fetchTopicOffsets(opts.topic));
    leaders = await retriedLookup(() => partitionLeaders(admin, opts.topic));
    ranges = ends.map((e) => ({ partition: e.partition, from: Math.max(Number(e.low), Number(e.high) - opts.perPartition), to: Number(e.high) }));
  } finally {
    await admin.disconnect();
  }
  const tick = schema('tick');
  for (const r of ranges) {
    for await (const run of fetchPartition(leaders(r.partition), `${opts.clientId}-resume`, opts.topic, r.partition, r.from, r.to)) {
      for (let i = 0; i < run.lengths.length; i++) {
        const len = run.lengths[i]!;
        if (len < 0) continue;
        out.records++;
        try {
          fold.add(decode<Tick>(tick, run.data.subarray(run.starts[i]!, run.starts[i]! + len)));
        } catch {
          out.undecodable++;
        }
      }
    }
  }
  out.points = fold.points;
  opts.log?.info(
    { venue: opts.venue, records: out.records, undecodable: out.undecodable, resumeAfter: Object.fromEntries(out.points) },
    'resume points read from the end of the ticks topic',
  );
  return out;
}
