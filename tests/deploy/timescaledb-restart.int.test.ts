// The local TimescaleDB endpoint restarted on its own data keeps TimescaleDB's TSL module: compressed chunks read back
// and compression still works. Before the fix, a restarted endpoint loaded the extension without it, so every TSL
// function failed ('not supported under the current "timescale" license') and compressed rows read as none — which
// the faults e2e (timescaledb:stop, then start) left behind for every later test of the run.
// A private endpoint on its own port and data directory: the shared test stack is not touched.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import t from 'tap';

const server = join(process.cwd(), 'deploy/local/timescaledb-server.mjs');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** Starts the endpoint and resolves once it says it listens; rejects with its output if it exits first. */
async function startEndpoint(port: number, dataDir: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--max-old-space-size=1024', server], {
    env: { ...process.env, TE_TSDB_PORT: String(port), TE_TSDB_DATA: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`endpoint not listening within 120 s: ${output}`)), 120_000);
    const seen = (d: Buffer): void => {
      output += d.toString();
      if (output.includes('listening')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', seen);
    child.stderr!.on('data', seen);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`endpoint exited (${code}) before listening: ${output}`));
    });
  });
  return child;
}

async function stopEndpoint(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

async function withClient<T>(port: number, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password: 'x', database: 'postgres' });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

t.test('restarted on its own data, the endpoint reads compressed chunks and compresses again', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'te-tsdb-restart-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const port = await freePort();

  let endpoint = await startEndpoint(port, dataDir);
  t.teardown(() => stopEndpoint(endpoint));
  await withClient(port, async (c) => {
    await c.query('CREATE TABLE m (ts timestamptz NOT NULL, sym text, v float8)');
    await c.query(`SELECT create_hypertable('m', 'ts', chunk_time_interval => interval '1 day')`);
    await c.query(`ALTER TABLE m SET (timescaledb.compress, timescaledb.compress_segmentby = 'sym')`);
    await c.query(`INSERT INTO m SELECT '2024-01-01'::timestamptz + i * interval '1 hour', 's' || (i % 3), i FROM generate_series(0, 71) i`);
    const compressed = await c.query(`SELECT compress_chunk(c) FROM show_chunks('m') c`);
    t.equal(compressed.rowCount, 3, 'three daily chunks compressed');
  });
  await stopEndpoint(endpoint);

  endpoint = await startEndpoint(port, dataDir);
  await withClient(port, async (c) => {
    const tsl = await c.query('SELECT _timescaledb_functions.tsl_loaded() AS loaded');
    t.equal(tsl.rows[0].loaded, true, 'the TSL module is loaded after the restart');
    const rows = await c.query('SELECT count(*)::int AS n, sum(v)::float8 AS s FROM m');
    t.same(rows.rows[0], { n: 72, s: (71 * 72) / 2 }, 'every compressed row reads back');
    const decompressed = await c.query(`SELECT decompress_chunk(c) FROM show_chunks('m') c`);
    t.equal(decompressed.rowCount, 3, 'and decompresses');
    await c.query(`INSERT INTO m VALUES ('2024-01-02 12:30+00', 's9', 1000)`);
    const again = await c.query(`SELECT compress_chunk(c) FROM show_chunks('m') c`);
    t.equal(again.rowCount, 3, 'and compresses again');
    const after = await c.query('SELECT count(*)::int AS n FROM m');
    t.equal(after.rows[0].n, 73, 'with the new row');
  });
});
