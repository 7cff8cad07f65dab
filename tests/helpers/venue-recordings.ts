// Recorded venue sessions (cryptofeed's sample data) read where they lie in the shared fixtures, never copied here.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { projectRoot } from '../../src/paths.js';
import type { VenueTrade } from '../../src/ingest/venues/venue-adapter.js';

/**
 * The shared directory: `../shared` beside the checkout (as CI has it), or TE_SHARED_DIR when set, for a checkout
 * that has no such neighbour (a worktree elsewhere). Throws when neither is there: the tests never skip.
 */
export function sharedDir(): string {
  const fromEnv = process.env.TE_SHARED_DIR;
  const dir = fromEnv ? fromEnv : join(projectRoot(), '..', 'shared');
  if (!existsSync(join(dir, 'fixtures', 'venues'))) {
    throw new Error(`no fixtures/venues under ${dir}: put the shared fixtures beside the checkout (../shared) or set TE_SHARED_DIR to their directory`);
  }
  return dir;
}

export function venueFixture(...path: string[]): string {
  return join(sharedDir(), 'fixtures', 'venues', ...path);
}

/** One message the venue sent: its line in the recording, the local receive time as written, the JSON text. */
export interface RecordedFrame {
  line: number;
  receivedAt: string;
  text: string;
}

/**
 * The messages a venue sent in one recording (`cryptofeed/<file>`, gzip): lines `epoch: {json}`. The first line
 * (the URL) and the client's subscribe lines (`URL <- epoch: …`) start with the URL and are left out.
 */
export function recordedFrames(file: string): RecordedFrame[] {
  const text = gunzipSync(readFileSync(venueFixture('cryptofeed', file))).toString('utf8');
  const out: RecordedFrame[] = [];
  text.split('\n').forEach((line, i) => {
    const m = /^(\d+(?:\.\d+)?): (.+)$/.exec(line);
    if (m) out.push({ line: i + 1, receivedAt: m[1]!, text: m[2]! });
  });
  return out;
}

/** One example message from a venue's documentation (tests/fixtures/venues/<venue>-<channel>.json): where it is from, and its text. */
export interface DocMessage {
  from: string;
  text: string;
}

export function docMessages(file: string): DocMessage[] {
  const doc = JSON.parse(readFileSync(join(projectRoot(), 'tests', 'fixtures', 'venues', file), 'utf8')) as {
    source: string;
    messages: { from: string; frame: unknown }[];
  };
  if (!doc.source) throw new Error(`${file}: no source`);
  return doc.messages.map((m) => ({ from: m.from, text: JSON.stringify(m.frame) }));
}

/** The fields of parsed trades a test compares (the ingest time left out: it is the caller's). */
export const tradeFields = (trades: VenueTrade[]) =>
  trades.map(({ tick, venueSymbol, snapshot }) => ({
    venueSymbol,
    symbol: tick.symbol,
    tradeId: tick.tradeId,
    price: tick.price,
    size: tick.size,
    side: tick.side,
    eventTime: tick.eventTime,
    snapshot,
  }));
