// The one interface every source of ticks gives the fold: Kafka record values where they lie in a fetch
// (stream/packed-batch.ts), an Avro container file's block and a CSV file's lines (ingest/files/). The fold
// (aggregate/tick-folder.ts) reads ticks through it and knows no wire or file format.
import type { Tick } from './tick.js';

/**
 * What a reader puts in Tick.tradeId when it leaves the string unbuilt (`idLazy`): one character, so validation
 * passes; the id itself is bytes [idPos, idPos + idLen) of `idBuf`.
 */
export const LAZY_TRADE_ID = '\u0000';

/**
 * A reader that can leave a tick's trade id as bytes: after each tick, whether it did, and where they are. Only
 * plain ASCII ids of 1–128 bytes are left so: their string has as many characters, so validating the placeholder
 * gives the same answer as the id. Aggregation needs an id only to break event-time ties and for a bar's first
 * and last trade, so most ids are never built.
 */
export interface LazyTradeIds {
  idLazy: boolean;
  idPos: number;
  idLen: number;
}

/** A batch of records, each read in place into a caller's scratch tick. */
export interface TickCursor extends LazyTradeIds {
  /** Records in the batch. */
  readonly count: number;
  /** Where record `i` sits in its source: the Kafka offset, a file's record or line number. */
  offset(i: number): number;
  /**
   * Read record `i` into `out` — records are read in order, each once. Returns null when it is a tick, else why
   * it is not (the record is rejected with TE_DECODE). After a tick with `idLazy`, its id is bytes
   * [idPos, idPos + idLen) of `idBuf`, which stays valid after the cursor moves on.
   */
  read(i: number, out: Tick): string | null;
  readonly idBuf: Buffer | undefined;
}

/** A blank tick for a cursor to fill (one per loop: the strings it holds are never mutated). */
export function emptyTick(): Tick {
  return { venue: '', symbol: '', eventTime: 0, price: 0, size: 0, side: 'UNKNOWN', tradeId: '', ingestTime: 0, venueSymbol: null, sequence: null };
}

/** A cursor over ticks already decoded (a page of the tick archive): record `i` is `ticks[i]`, at offset `first + i`. */
export class ArrayTickCursor implements TickCursor {
  idLazy = false;
  idPos = 0;
  idLen = 0;
  readonly idBuf = undefined;

  constructor(
    private readonly ticks: readonly Tick[],
    private readonly first: number,
  ) {}

  get count(): number {
    return this.ticks.length;
  }

  offset(i: number): number {
    return this.first + i;
  }

  read(i: number, out: Tick): string | null {
    const t = this.ticks[i]!;
    out.venue = t.venue;
    out.symbol = t.symbol;
    out.eventTime = t.eventTime;
    out.price = t.price;
    out.size = t.size;
    out.side = t.side;
    out.tradeId = t.tradeId;
    out.ingestTime = t.ingestTime;
    out.venueSymbol = t.venueSymbol ?? null;
    out.sequence = t.sequence ?? null;
    return null;
  }
}
