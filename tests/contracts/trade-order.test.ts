// Trades sharing an event time are ordered as the venue numbers them: numeric ids as numbers, then the rest.
import fc from 'fast-check';
import t from 'tap';
import { compareTradeIds, tradeIdBefore } from '../../src/contracts/trade-order.js';

t.test('numeric ids compare as numbers, not as strings', async (t) => {
  t.ok(tradeIdBefore('9', '10'));
  t.notOk(tradeIdBefore('10', '9'));
  t.ok(tradeIdBefore('999999999999', '1000000000000'));
  t.ok(tradeIdBefore('12345678901234567890', '12345678901234567891'), 'beyond 2^53: exact');
  t.ok(tradeIdBefore('0009', '10'), 'leading zeros do not count');
  t.notOk(tradeIdBefore('7', '7'));
});

t.test('numerically equal ids differ: still a strict total order (by string)', async (t) => {
  t.equal(Math.sign(compareTradeIds('07', '7')), -1);
  t.equal(Math.sign(compareTradeIds('7', '07')), 1);
  t.equal(Math.sign(compareTradeIds('0', '00')), -1);
});

t.test('non-numeric ids (UUIDs) come after numeric ones and compare as strings', async (t) => {
  t.ok(tradeIdBefore('99', 'a1b2'));
  t.ok(tradeIdBefore('1a', 'b'));
  t.ok(tradeIdBefore('', 'x'), 'the empty id is not numeric');
  t.ok(tradeIdBefore('7f4e-01', '7f4e-02'));
});

t.test('equals a BigInt reading of any two ids, and is antisymmetric and transitive', async (t) => {
  const digits = fc.stringMatching(/^[0-9]{1,25}$/);
  const id = fc.oneof(digits, fc.string({ maxLength: 6 }), fc.constantFrom('0', '00', '9', '10', 'a', ''));
  const reference = (a: string, b: string): number => {
    const na = /^[0-9]+$/.test(a);
    const nb = /^[0-9]+$/.test(b);
    const str = a < b ? -1 : a > b ? 1 : 0;
    if (na && nb) return BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : str;
    if (na !== nb) return na ? -1 : 1;
    return str;
  };
  fc.assert(
    fc.property(id, id, id, (a, b, c) => {
      const ab = Math.sign(compareTradeIds(a, b));
      if (ab !== reference(a, b)) return false;
      if (ab !== -Math.sign(compareTradeIds(b, a))) return false;
      if (ab < 0 && compareTradeIds(b, c) < 0 && !(compareTradeIds(a, c) < 0)) return false;
      return true;
    }),
    { numRuns: 20_000 },
  );
  t.pass('20,000 triples');
});
