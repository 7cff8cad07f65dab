// Client JSON: a nesting limit checked before parsing, and values described in messages without serializing them.
import t from 'tap';
import { BadRequestError } from '../src/errors.js';
import { describe } from '../src/errors.js';
import { jsonDepth, parseUntrustedJson } from '../src/untrusted-json.js';

t.test('depth counts arrays and objects, not brackets in strings', async (t) => {
  t.equal(jsonDepth('1'), 0);
  t.equal(jsonDepth('{"a":[1,{"b":[]}]}'), 4);
  t.equal(jsonDepth('["[[[[", "{{{\\"[["]'), 1, 'brackets inside strings, escaped quotes included, do not count');
  t.equal(jsonDepth('['.repeat(1_000_000), 40), 41, 'stops as soon as the limit is passed');
  // Against the definition: the deepest path of a parsed random structure.
  const depthOf = (v: unknown): number => (typeof v === 'object' && v !== null ? 1 + Math.max(0, ...Object.values(v).map(depthOf)) : 0);
  let seed = 7;
  const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  const gen = (d: number): unknown =>
    d === 0 || rnd(3) === 0 ? (rnd(2) ? 'x[{"' : 1) : rnd(2) ? [gen(d - 1), gen(d - 1)] : { k: gen(d - 1), '[': gen(d - 1) };
  for (let i = 0; i < 300; i++) {
    const v = gen(1 + rnd(12));
    t.equal(jsonDepth(JSON.stringify(v)), depthOf(v), `structure ${i}`);
    if (t.passing() === false) break;
  }
});

t.test('parse refuses what is too deep or not JSON, with TE_BAD_REQUEST', async (t) => {
  t.same(parseUntrustedJson('{"op":"ping"}', 'message'), { op: 'ping' });
  const deep = `{"symbols":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
  t.throws(() => parseUntrustedJson(deep, 'message'), { code: 'TE_BAD_REQUEST', message: /nested deeper than 32/ });
  t.throws(() => parseUntrustedJson('{"a":', 'body'), BadRequestError);
  t.throws(() => parseUntrustedJson('{"a":', 'body'), { message: 'body is not valid JSON' });
  t.ok(parseUntrustedJson(`${'['.repeat(32)}${']'.repeat(32)}`, 'x'), '32 levels pass');
});

t.test('describe never serializes a structure', async (t) => {
  let deep: unknown = 1;
  for (let i = 0; i < 200_000; i++) deep = [deep];
  t.equal(describe(deep), 'an array of 1', 'a value JSON.stringify would overflow the stack on');
  t.equal(describe({ a: 1 }), 'an object');
  t.equal(describe('x'.repeat(1000)), JSON.stringify(`${'x'.repeat(64)}…`));
  t.equal(describe(null), 'null');
  t.equal(describe(3), '3');
  t.equal(describe(undefined), 'nothing');
});
