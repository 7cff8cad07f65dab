// `tick-engine export`: bars of the chosen symbols, intervals and range, read from one store page by page and written
// as CSV, JSON lines or Parquet, with progress on standard error. A file is written as FILE.partial and renamed when
// complete, so FILE is never a half export: a stop (SIGTERM/SIGINT) or a failure removes the partial file.
import { existsSync, renameSync, rmSync } from 'node:fs';
import type { Config } from '../../config.js';
import { parseInterval } from '../../contracts/interval.js';
import type { Logger } from '../../log.js';
import { BarHistory, type BarSeries, type HistoryStore } from '../../stores/history.js';
import { ABANDON_FACTOR } from '../../stores/postgres/postgres-sink.js';
import { Progress } from '../progress.js';
import type { BarWriter } from './bar-writer.js';
import { exportPlan, type ExportFormat } from './export-plan.js';

/** `path` undefined: standard output (CSV and JSON lines only). Each format's code is loaded when it is used. */
async function openBarWriter(format: ExportFormat, path: string | undefined, rowGroupRows: number): Promise<BarWriter> {
  if (format === 'parquet') {
    const { ParquetBarWriter } = await import('./bar-parquet.js');
    return new ParquetBarWriter(path!, rowGroupRows);
  }
  const { TextBarWriter } = await import('./bar-text.js');
  return TextBarWriter.open(format, path);
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
  const store = config.exportStore as HistoryStore;
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

  const history = new BarHistory(config, { store, queryTimeoutMs: ABANDON_FACTOR * config.storeTimeoutMs });
  let writer: BarWriter | undefined;
  try {
    const series = (await history.series(plan.from, plan.to))
      .filter((s) => plan.matches(s.symbol) && (plan.intervals === undefined || plan.intervals.includes(s.interval)))
      .sort(bySeries);
    const total = series.reduce((n, s) => n + s.bars, 0);
    log.info(
      {
        store,
        table: config.barsTable,
        symbols: plan.patterns,
        intervals: plan.intervals ?? 'all',
        series: series.length,
        bars: total,
        format: plan.format,
        out: plan.out,
      },
      'export started',
    );
    writer = await openBarWriter(plan.format, partial, config.exportRowGroupRows);
    const progress = new Progress(`export ${store} → ${plan.out === '-' ? 'stdout' : plan.out}`, total);
    let done = 0;
    for await (const page of history.pages(series, { from: plan.from, to: plan.to, pageRows: config.exportPageRows })) {
      await writer.write(page);
      done += page.length;
      progress.update(done);
      if (stopSignal !== undefined) break;
    }
    if (stopSignal !== undefined) {
      await writer.abort();
      removePartial();
      process.stderr.write(
        `export: stopped by ${stopSignal} after ${done} of ${total} bars; ${partial ? `${partial} removed, ${plan.out} not written` : 'standard output ends at a whole row'}\n`,
      );
      return SIGNAL_EXIT[stopSignal] ?? 1;
    }
    await writer.finish();
    if (partial !== undefined) renameSync(partial, plan.out);
    progress.finish(done);
    process.stderr.write(`exported ${done} bars of ${series.length} series (symbol × interval) from ${store} to ${plan.out} as ${plan.format}\n`);
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
    await history.close();
  }
}
