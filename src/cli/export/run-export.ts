// `tick-engine export`: bars of the chosen symbols, intervals and range, read from one store page by page — or archived
// ticks of the chosen symbols and range, from the tick archive in QuestDB — and written as CSV, JSON lines or Parquet,
// with progress on standard error. A file is written as FILE.partial and renamed when
// complete, so FILE is never a half export: a stop (SIGTERM/SIGINT) or a failure removes the partial file.
import { existsSync, renameSync, rmSync } from 'node:fs';
import type { Config } from '../../config.js';
import { parseInterval } from '../../contracts/interval.js';
import type { Logger } from '../../log.js';
import type { Bar } from '../../contracts/bar.js';
import { BarHistory, type BarSeries, type HistoryStore } from '../../stores/history.js';
import type { ArchivedTrade } from '../../stores/trade-history.js';
import { ABANDON_FACTOR } from '../../stores/postgres/postgres-sink.js';
import { Progress } from '../progress.js';
import { TradeHistory } from '../../stores/trade-history.js';
import { exportPlan, type ExportFormat, type ExportPlan } from './export-plan.js';
import { BAR_TABLE, TICK_TABLE } from './row-tables.js';
import type { RowTable, RowWriter } from './row-writer.js';

/** `path` undefined: standard output (CSV and JSON lines only). Each format's code is loaded when it is used. */
async function openRowWriter<T>(format: ExportFormat, path: string | undefined, rowGroupRows: number, table: RowTable<T>): Promise<RowWriter<T>> {
  if (format === 'parquet') {
    const { ParquetRowWriter } = await import('./parquet-writer.js');
    return new ParquetRowWriter(path!, rowGroupRows, table);
  }
  const { TextRowWriter } = await import('./text-writer.js');
  return TextRowWriter.open(format, path, table);
}

/** What is exported: its table, how many rows in how many parts, the pages, and what to close. */
interface ExportSource<T> {
  table: RowTable<T>;
  /** Where it is read: a store's name. */
  store: string;
  parts: number;
  partsName: string;
  total: number;
  pages: AsyncIterable<T[]>;
  close(): Promise<void>;
}

async function barsSource(config: Config, plan: ExportPlan, log: Logger): Promise<ExportSource<Bar>> {
  const store = config.exportStore as HistoryStore;
  const history = new BarHistory(config, { store, queryTimeoutMs: ABANDON_FACTOR * config.storeTimeoutMs });
  try {
    const series = (await history.series(plan.from, plan.to))
      .filter((s) => plan.matches(s.symbol) && (plan.intervals === undefined || plan.intervals.includes(s.interval)))
      .sort(bySeries);
    const total = series.reduce((n, s) => n + s.bars, 0);
    log.info(
      { store, table: config.barsTable, symbols: plan.patterns, intervals: plan.intervals ?? 'all', series: series.length, bars: total },
      'export started',
    );
    return {
      table: BAR_TABLE,
      store,
      parts: series.length,
      partsName: 'series (symbol × interval)',
      total,
      pages: history.pages(series, { from: plan.from, to: plan.to, pageRows: config.exportPageRows }),
      close: () => history.close(),
    };
  } catch (err) {
    await history.close();
    throw err;
  }
}

async function ticksSource(config: Config, plan: ExportPlan, log: Logger): Promise<ExportSource<ArchivedTrade>> {
  const trades = new TradeHistory(config, { queryTimeoutMs: ABANDON_FACTOR * config.storeTimeoutMs });
  try {
    const symbols = (await trades.symbols(plan.from, plan.to)).filter((s) => plan.matches(s.symbol));
    const total = symbols.reduce((n, s) => n + s.trades, 0);
    log.info({ store: 'questdb', table: config.ticksTable, symbols: plan.patterns, matched: symbols.length, ticks: total }, 'export started');
    return {
      table: TICK_TABLE,
      store: 'questdb (tick archive)',
      parts: symbols.length,
      partsName: 'symbols',
      total,
      pages: trades.pages(
        symbols.map((s) => s.symbol),
        { from: plan.from, to: plan.to, pageRows: config.exportPageRows },
      ),
      close: () => trades.close(),
    };
  } catch (err) {
    await trades.close();
    throw err;
  }
}

const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };
const SIGPIPE_EXIT = 141;

/** Output order: by interval width (then name), then symbol, then bucket (the pages' own order). */
function bySeries(a: BarSeries, b: BarSeries): number {
  const width = (name: string) => {
    try {
      return parseInterval(name);
    } catch {
      return Number.MAX_SAFE_INTEGER; // a name the engine would not write: after the others
    }
  };
  const byName = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
  return width(a.interval) - width(b.interval) || byName(a.interval, b.interval) || byName(a.symbol, b.symbol);
}

export async function runExport(config: Config, options: ReadonlyMap<string, string | boolean>, log: Logger): Promise<number> {
  const plan = exportPlan(options);
  return plan.what === 'ticks' ? runWith(await ticksSource(config, plan, log), config, plan) : runWith(await barsSource(config, plan, log), config, plan);
}

async function runWith<T>(source: ExportSource<T>, config: Config, plan: ExportPlan): Promise<number> {
  const what = source.table.name;
  const partial = plan.out === '-' ? undefined : `${plan.out}.partial`;
  const removePartial = () => {
    if (partial !== undefined) rmSync(partial, { force: true });
  };

  // The first signal stops after the page in flight (at most the query timeout); a second one exits at once.
  let stopSignal: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopSignal !== undefined) {
      removePartial();
      process.stderr.write(`export: second ${signal}: stopped at once${partial ? `, ${partial} removed` : ''}\n`);
      process.exit(130);
    }
    stopSignal = signal;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let writer: RowWriter<T> | undefined;
  try {
    writer = await openRowWriter(plan.format, partial, config.exportRowGroupRows, source.table);
    const progress = new Progress(`export ${source.store} → ${plan.out === '-' ? 'stdout' : plan.out}`, source.total);
    let done = 0;
    for await (const page of source.pages) {
      await writer.write(page);
      done += page.length;
      progress.update(done);
      if (stopSignal !== undefined) break;
    }
    if (stopSignal !== undefined) {
      await writer.abort();
      removePartial();
      process.stderr.write(
        `export: stopped by ${stopSignal} after ${done} of ${source.total} ${what}; ${partial ? `${partial} removed, ${plan.out} not written` : 'standard output ends at a whole row'}\n`,
      );
      return SIGNAL_EXIT[stopSignal] ?? 1;
    }
    await writer.finish();
    if (partial !== undefined) renameSync(partial, plan.out);
    progress.finish(done);
    process.stderr.write(`exported ${done} ${what} of ${source.parts} ${source.partsName} from ${source.store} to ${plan.out} as ${plan.format}\n`);
    return 0;
  } catch (err) {
    await writer?.abort().catch(() => undefined);
    if (partial !== undefined && existsSync(partial)) removePartial();
    // The reader of standard output went away (`| head`): stop quietly, as a tool killed by SIGPIPE does.
    if (partial === undefined && (err as NodeJS.ErrnoException).code === 'EPIPE') return SIGPIPE_EXIT;
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await source.close();
  }
}
