// The PostgreSQL array literals the bulk upserts pass (their round trip through real servers: stores.int.test.ts).
import t from 'tap';
import { boolArray, numberArray, textArray } from '../../src/stores/postgres/array-literal.js';

t.test('numbers print in a form PostgreSQL reads back to the same double', async (t) => {
  t.equal(numberArray([]), '{}');
  t.equal(numberArray([1, 2.5, -3]), '{1,2.5,-3}');
  t.equal(numberArray([NaN, Infinity, -Infinity]), '{NaN,Infinity,-Infinity}');
  t.equal(numberArray([1e21, 5e-324, 0.1 + 0.2]), '{1e+21,5e-324,0.30000000000000004}');
  t.equal(numberArray([1_700_000_000_123_456]), '{1700000000123456}', 'a µs timestamp as a whole number');
});

t.test('text is quoted, and only backslash and double quote are escaped', async (t) => {
  t.equal(textArray([]), '{}');
  t.equal(textArray(['BTC-USDT', '']), '{"BTC-USDT",""}');
  t.equal(textArray(['A"B', 'C\\D']), '{"A\\"B","C\\\\D"}');
  t.equal(textArray(['E,F', '{G}', 'NULL', 'H I']), '{"E,F","{G}","NULL","H I"}', 'commas, braces, NULL and spaces stay text inside quotes');
});

t.test('booleans and null', async (t) => {
  t.equal(boolArray([true, false, null]), '{t,f,NULL}');
  t.equal(boolArray([]), '{}');
});
