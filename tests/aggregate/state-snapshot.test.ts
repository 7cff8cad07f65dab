// The snapshot's byte format: a round trip keeps every value (infinities and undefined included); anything else —
// garbage, another version, an older layout — is refused with TE_STATE_RESTORE and what to do, never a crash
// inside the restore.
import { serialize } from 'node:v8';
import t from 'tap';
import { PartitionAggregator } from '../../src/aggregate/partition-aggregator.js';
import { TickFolder } from '../../src/aggregate/tick-folder.js';
import { RecordsCursor } from '../helpers/tick-records.js';
import { SignalEngine } from '../../src/aggregate/signals/signal-engine.js';
import { decodeSnapshot, encodeSnapshot } from '../../src/aggregate/state-snapshot.js';
import { loadConfig } from '../../src/config.js';

const config = loadConfig({ env: { TE_INTERVALS: '1s,1m' } });

t.test('round trip', async (t) => {
  const agg = PartitionAggregator.fromConfig(config);
  const folder = new TickFolder({ interval: agg.baseInterval, watermark: agg.watermark, maxOutOfOrder: 0, allowedLateness: 0, origin: 0 });
  folder.addFrom(
    new RecordsCursor([
      { offset: 0, tick: { venue: 'V', symbol: 'A', eventTime: 1_700_000_000_500_000, price: 10, size: 1, side: 'BUY', tradeId: '1', ingestTime: 0 } },
    ]),
    0,
    0,
  );
  agg.apply(folder.result(), [0], 0);
  agg.closeFinal();
  const snap = agg.snapshot();
  t.equal(snap.levels[1]!.open.length, 0, 'the 1m bar is still built from its open 1s bar');
  const back = decodeSnapshot(encodeSnapshot(snap, new SignalEngine().state()));
  t.same(back.agg, snap, 'the aggregation state, -Infinity watermarks included');
  t.same(back.signals.keys, []);
});

t.test('refused: garbage, another version, an older layout', async (t) => {
  t.throws(() => decodeSnapshot(Buffer.from('not a snapshot')), { code: 'TE_STATE_RESTORE', message: /does not deserialize/ });
  t.throws(() => decodeSnapshot(serialize({ v: 2, agg: { v: 1 } })), { code: 'TE_STATE_RESTORE', message: /unknown format version \(2\)/ });
  const old = { v: 1, agg: { v: 1, hi: 5, wm: 0, from: 0, fromWm: 0, levels: [] }, signals: [] };
  t.throws(() => decodeSnapshot(serialize(old)), { code: 'TE_STATE_RESTORE', message: /older version of the aggregator.*TE_AGG_GROUP/ });
});
