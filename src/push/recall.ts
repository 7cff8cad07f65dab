// The identities of the trades and quotes on the ticks and quotes topics since a time, read back into the window:
//   - at start-up, since TE_PUSH_DEDUPE_WINDOW_MS ago: a batch written just before a restart and sent again just
//     after it (the client never saw the answer) is still recognised;
//   - after a write failed, since that write began (writer.ts): the broker may have written records whose
//     acknowledgement was lost, and only the topics can say which.
// Only venues some push key may write are remembered; the read is bounded by TE_PUSH_DEDUPE_MAX_IDS, shared out over
// the partitions (each keeps its most recent records).
import type { Kafka } from 'kafkajs';
import type { Config } from '../config.js';
import type { Quote } from '../contracts/quote.js';
import type { Tick } from '../contracts/tick.js';
import type { Logger } from '../log.js';
import { fetchPartition, partitionLeaders } from '../stream/fetch/index.js';
import { retriedLookup } from '../stream/retried-lookup.js';
import { schema, type SchemaName } from '../stream/schemas.js';
import { decode } from '../stream/serde.js';
import { quoteIdentity, tradeIdentity, type IdentityWindow } from './identity-window.js';

interface Source {
  topic: string;
  schema: SchemaName;
  identity: (v: Tick & Quote) => string;
}

export interface Recalled {
  records: number;
  remembered: number;
  undecodable: number;
}

/**
 * Reads the identities written since `since` (ms since the epoch; default: the window's start) into `window`;
 * `venueAllowed`: the venues whose identities matter.
 */
export async function recallIdentities(
  kafka: Kafka,
  config: Config,
  window: IdentityWindow,
  venueAllowed: (venue: string) => boolean,
  log: Logger,
  since = Date.now() - config.pushDedupeWindowMs,
): Promise<Recalled> {
  const out: Recalled = { records: 0, remembered: 0, undecodable: 0 };
  if (config.pushDedupeWindowMs === 0) return out;
  const sources: Source[] = [
    { topic: config.topicTicks, schema: 'tick', identity: tradeIdentity },
    { topic: config.topicQuotes, schema: 'quote', identity: quoteIdentity },
  ];
  const admin = kafka.admin();
  await admin.connect();
  const ranges: { source: Source; partition: number; from: number; to: number; leader: ReturnType<Awaited<ReturnType<typeof partitionLeaders>>> }[] = [];
  try {
    for (const source of sources) {
      const [ends, starts, leaders] = await retriedLookup(() =>
        Promise.all([admin.fetchTopicOffsets(source.topic), admin.fetchTopicOffsetsByTimestamp(source.topic, since), partitionLeaders(admin, source.topic)]),
      );
      for (const e of ends) {
        const start = Number(starts.find((s) => s.partition === e.partition)?.offset ?? e.high);
        ranges.push({ source, partition: e.partition, from: Math.max(Number(e.low), start), to: Number(e.high), leader: leaders(e.partition) });
      }
    }
  } finally {
    await admin.disconnect();
  }
  const perPartition = Math.max(1, Math.floor(config.pushDedupeMaxIds / Math.max(1, ranges.length)));
  const now = Date.now();
  for (const r of ranges) {
    const s = schema(r.source.schema);
    const from = Math.max(r.from, r.to - perPartition);
    for await (const run of fetchPartition(r.leader, `${config.kafkaClientId}-push-recall`, r.source.topic, r.partition, from, r.to)) {
      for (let i = 0; i < run.lengths.length; i++) {
        const len = run.lengths[i]!;
        if (len < 0) continue;
        out.records++;
        let v: Tick & Quote;
        try {
          v = decode<Tick & Quote>(s, run.data.subarray(run.starts[i]!, run.starts[i]! + len));
        } catch {
          out.undecodable++;
          continue;
        }
        if (!venueAllowed(v.venue)) continue;
        window.add(r.source.identity(v), now);
        out.remembered++;
      }
    }
  }
  log.info({ ...out, since: new Date(since).toISOString(), identities: window.size }, 'identities of written trades and quotes read back from the topics');
  return out;
}
