// The two things an export writes: bars (the bar contract, as the stores hold it) and archived ticks (the tick
// archive's rows: the tick contract without the feed's sequence). Times are µs since the epoch, numbers in their
// shortest exact form; `complete` and `venueSymbol` may be null (an empty CSV field, an optional Parquet column).
import fastJson from 'fast-json-stringify';
import { BAR_FIELDS, type Bar } from '../../contracts/bar.js';
import { BAR_JSON_SCHEMA } from '../../gateway/ws/protocol.js';
import type { ArchivedTrade } from '../../stores/trade-history.js';
import { csvField, type RowTable } from './row-writer.js';

const serializeBar = fastJson(BAR_JSON_SCHEMA) as (b: Bar) => string;

export const BAR_TABLE: RowTable<Bar> = {
  name: 'bars',
  fields: BAR_FIELDS,
  kinds: {
    symbol: 'string',
    interval: 'string',
    bucketStart: 'timestamp',
    open: 'double',
    high: 'double',
    low: 'double',
    close: 'double',
    volume: 'double',
    quoteVolume: 'double',
    vwap: 'double',
    tradeCount: 'int64',
    buyVolume: 'double',
    firstEventTime: 'timestamp',
    lastEventTime: 'timestamp',
    revision: 'int32',
    final: 'boolean',
    complete: 'optional-boolean',
  },
  csvRow: (b) =>
    [
      csvField(b.symbol),
      csvField(b.interval),
      b.bucketStart,
      b.open,
      b.high,
      b.low,
      b.close,
      b.volume,
      b.quoteVolume,
      b.vwap,
      b.tradeCount,
      b.buyVolume,
      b.firstEventTime,
      b.lastEventTime,
      b.revision,
      b.final,
      b.complete ?? '',
    ].join(','),
  jsonRow: serializeBar,
};

const TICK_FIELDS = ['venue', 'symbol', 'tradeId', 'eventTime', 'price', 'size', 'side', 'ingestTime', 'venueSymbol'] as const;

const serializeTick = fastJson({
  type: 'object',
  properties: {
    venue: { type: 'string' },
    symbol: { type: 'string' },
    tradeId: { type: 'string' },
    eventTime: { type: 'integer' },
    price: { type: 'number' },
    size: { type: 'number' },
    side: { type: 'string' },
    ingestTime: { type: 'integer' },
    venueSymbol: { type: 'string', nullable: true },
  },
  required: [...TICK_FIELDS],
}) as (t: ArchivedTrade) => string;

export const TICK_TABLE: RowTable<ArchivedTrade> = {
  name: 'ticks',
  fields: TICK_FIELDS,
  kinds: {
    venue: 'string',
    symbol: 'string',
    tradeId: 'string',
    eventTime: 'timestamp',
    price: 'double',
    size: 'double',
    side: 'string',
    ingestTime: 'timestamp',
    venueSymbol: 'optional-string',
  },
  csvRow: (t) =>
    [csvField(t.venue), csvField(t.symbol), csvField(t.tradeId), t.eventTime, t.price, t.size, t.side, t.ingestTime, csvField(t.venueSymbol ?? '')].join(','),
  jsonRow: serializeTick,
};
