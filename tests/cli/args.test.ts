// Command-line parsing: config flags by their keys' names, a command's short aliases for them, its own options.
import t from 'tap';
import { parseCommandArgs } from '../../src/cli/args.js';

t.test("an alias sets its key like the key's own flag, which wins when both are given", async (t) => {
  const aliases = { symbols: 'TE_FEED_SYMBOLS' };
  t.same(parseCommandArgs(['--feed', 'binance', '--symbols', 'BTC-USDT,ETH-USDT'], {}, aliases).flags, {
    TE_FEED: 'binance',
    TE_FEED_SYMBOLS: 'BTC-USDT,ETH-USDT',
  });
  t.same(parseCommandArgs(['--symbols', 'A-B', '--feed-symbols', 'C-D'], {}, aliases).flags, { TE_FEED_SYMBOLS: 'C-D' });
  t.throws(() => parseCommandArgs(['--symbols', 'A-B']), { code: 'ERR_PARSE_ARGS_UNKNOWN_OPTION' }, 'a command without the alias refuses it');
});
