// `tick-engine ingest --file PATH`: a file's trades into the ticks topic, exactly once, resumable (src/runtime/backfill.ts).
import { access } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Config } from '../config.js';
import { ConfigError } from '../errors.js';
import type { Logger } from '../log.js';
import { FILE_FORMATS, fileSha256, openTickFile, type TickFileOptions } from '../ingest/files/tick-file.js';
import { onShutdown } from './lifecycle.js';
import { Progress } from './progress.js';

export async function runIngestFile(config: Config, options: Map<string, string | boolean>, log: Logger): Promise<number> {
  const path = options.get('file') as string;
  if (config.feed !== 'sim') throw new ConfigError('--file', `reads a file: it does not go with a live feed (TE_FEED=${config.feed})`);
  const format = (options.get('format') as string | undefined) ?? 'auto';
  if (!(FILE_FORMATS as readonly string[]).includes(format)) throw new ConfigError('--format', `must be one of ${FILE_FORMATS.join(', ')} (got '${format}')`);
  try {
    await access(path);
  } catch {
    throw new ConfigError('--file', `cannot read ${path}`);
  }
  const opts: TickFileOptions = { format: format as TickFileOptions['format'] };
  if (options.has('venue')) opts.venue = options.get('venue') as string;
  if (options.has('symbol')) opts.symbol = options.get('symbol') as string;
  const file = await openTickFile(path, opts);
  const sha256 = await fileSha256(path);

  const [{ createKafka }, { Backfill }] = await Promise.all([import('../stream/kafka.js'), import('../runtime/backfill.js')]);
  const progress = new Progress(`ingest ${basename(path)}`, file.size, { unit: file.unit });
  const abort = new AbortController();
  const done = onShutdown(log, [{ name: 'backfill', stop: async () => abort.abort() }]);
  const backfill = new Backfill(config, createKafka(config, 'ingest'), {
    file,
    sha256,
    log,
    signal: abort.signal,
    onCommit: (p) => progress.update(file.unit === 'bytes' ? p.byte : p.records),
  });
  const s = await backfill.run();
  progress.finish(file.unit === 'bytes' ? s.position.byte : s.position.records);
  process.stderr.write(
    s.alreadyDone
      ? `${path} was published completely before: ${s.produced} ticks, ${s.rejected} dead-lettered rows; nothing to do\n`
      : `${s.done ? 'published' : 'stopped after'} ${s.position.records} records of ${path}` +
          `${s.resumedFrom.records > 0 ? ` (resumed after record ${s.resumedFrom.records})` : ''}: ` +
          `${s.produced} ticks to ${config.topicTicks} and ${s.rejected} rows dead-lettered to ${config.topicDlq} in all, ${s.transactions} transactions this run` +
          `${s.done ? '' : '; run the same command again to resume'}\n`,
  );
  if (abort.signal.aborted) await done;
  return s.done ? 0 : 130;
}
