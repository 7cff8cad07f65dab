// Bar history for a REST load run: `perSymbol` final 1s bars for each symbol, ending now, written to the run's own
// table in PostgreSQL (the store the spawned gateway reads with TE_HISTORY_STORE=postgres).
import type { Config } from '../config.js';
import type { Bar } from '../contracts/bar.js';
import type { Logger } from '../log.js';
import { PostgresSink, signalsTable } from '../stores/postgres/postgres-sink.js';

export async function seedHistory(config: Config, symbols: readonly string[], perSymbol: number, log: Logger): Promise<void> {
  const sink = new PostgresSink({ name: 'postgres', url: config.pgUrl, table: config.barsTable, log, idleCloseMs: 5000, timeoutMs: 30_000 });
  await sink.init();
  const end = Math.floor(Date.now() / 1000) * 1_000_000;
  try {
    for (const symbol of symbols) {
      let batch: Bar[] = [];
      for (let i = perSymbol; i > 0; i--) {
        const bucketStart = end - i * 1_000_000;
        const p = 100 + Math.sin(i / 50);
        batch.push({
          symbol,
          interval: '1s',
          bucketStart,
          open: p,
          high: p + 0.1,
          low: p - 0.1,
          close: p,
          volume: 1,
          quoteVolume: p,
          vwap: p,
          tradeCount: 1,
          buyVolume: 0.5,
          firstEventTime: bucketStart,
          lastEventTime: bucketStart + 999_999,
          revision: 0,
          final: true,
          complete: null,
        });
        if (batch.length === 5000) {
          await sink.write(batch);
          batch = [];
        }
      }
      if (batch.length) await sink.write(batch);
    }
  } finally {
    await sink.close();
  }
  log.info({ symbols: symbols.length, perSymbol, table: config.barsTable }, 'bar history seeded');
}

/** Drop the run's history table (and the signals table the sink creates beside it). */
export async function dropHistory(config: Config): Promise<void> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: config.pgUrl });
  await client.connect();
  try {
    await client.query(`DROP TABLE IF EXISTS ${config.barsTable}, ${signalsTable(config.barsTable)}`);
  } finally {
    await client.end();
  }
}
