import t from 'tap';
import { PUBLISHED_HEADER, publishedAt, publishedHeader } from '../../src/stream/published-header.js';

t.test('the header a bar record carries, read back as the broker returns it', async (t) => {
  const before = Date.now();
  const h = publishedHeader();
  const at = publishedAt({ [PUBLISHED_HEADER]: Buffer.from(h[PUBLISHED_HEADER]!) });
  t.ok(at !== undefined && at >= before && at <= Date.now(), `produced now (${at})`);
  t.equal(publishedAt({ [PUBLISHED_HEADER]: [Buffer.from('1700000000123')] }), 1700000000123, 'a repeated header: the first');
  t.equal(publishedAt(undefined), undefined, 'no headers');
  t.equal(publishedAt({ other: 'x' }), undefined, 'another header only');
  t.equal(publishedAt({ [PUBLISHED_HEADER]: 'soon' }), undefined, 'not a number');
  t.equal(publishedAt({ [PUBLISHED_HEADER]: '0' }), undefined, 'not a time');
});
