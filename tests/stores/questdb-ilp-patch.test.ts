// @questdb/nodejs-client 4.2.0 wrote each row's text one native Buffer#write per separator and, in names and symbols,
// one per character (writeEscaped): about 25 µs per bar row of 11 columns, a share of the aggregator's main thread as
// large as its own bar code. patches/@questdb+nodejs-client+4.2.0.patch writes a string with nothing to escape in one
// call and short ASCII strings byte by byte. (Patched and upstream gave the same bytes for 2,100 random rows when this
// was written.) These tests check the installed copy carries the patch and hold the ILP text it writes to an escaping
// written here from QuestDB's ILP rules; the integration tests read every row back from a real QuestDB.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createBuffer, SenderOptions } from '@questdb/nodejs-client';
import t from 'tap';

const require = createRequire(import.meta.url);

t.test('the installed client carries the patch, ESM and CommonJS builds (npm install applied it)', async (t) => {
  const cjs = require.resolve('@questdb/nodejs-client');
  for (const path of [cjs, cjs.replace(/cjs[/\\]index\.js$/, 'es/index.mjs')]) {
    const text = readFileSync(path, 'utf8');
    t.match(text, /tick-engine patch: a string with nothing to escape/, path);
    t.match(text, /tick-engine patch: a short ASCII string/, path);
  }
});

// ILP: in names and symbol values a space, comma, equals sign, CR and LF are escaped with a backslash; in string values
// a double quote, CR and LF; a backslash is doubled in both. One character at a time, as the reference.
const escaped = (s: string, quoted: boolean) => [...s].map((c) => (c === '\\' ? '\\\\' : (quoted ? '"\n\r' : ' ,=\n\r').includes(c) ? `\\${c}` : c)).join('');

t.test('symbols and strings are written as ILP escapes them, however long, escaped or not, ASCII or not', async (t) => {
  const chars = ['a', 'Z', '0', '_', '-', '.', ' ', ',', '=', '"', '\\', '\n', '\r', 'é', '漢', '\u{1F600}'];
  let seed = 11;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const text = (n: number) => Array.from({ length: n }, () => chars[Math.floor(rnd() * chars.length)]).join('');
  let bad = 0;
  let n = 0;
  for (; n < 2000; n++) {
    const symbol = n % 3 === 0 ? `SYM${n}` : text(Math.floor(rnd() * 40));
    const venue = n % 5 === 0 ? 'BINANCE' : text(Math.floor(rnd() * 60));
    const buffer = createBuffer(new SenderOptions('http::addr=localhost:9000;auto_flush=off;protocol_version=2'));
    buffer.table('bars').symbol('symbol', symbol).stringColumn('venue', venue);
    buffer.at(1764777000000000n, 'us');
    const got = buffer.toBufferNew()!.toString('utf8');
    const want = `bars,symbol=${escaped(symbol, false)} venue="${escaped(venue, true)}" 1764777000000000t\n`;
    if (got !== want && ++bad <= 3) t.fail(`row ${n}`, { got: JSON.stringify(got), want: JSON.stringify(want) });
  }
  t.equal(bad, 0, `${n} random rows: symbols and strings of 0–60 characters, with and without characters to escape`);
});
