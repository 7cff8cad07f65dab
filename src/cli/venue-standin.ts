// `tick-engine venue-standin --venue <v>`: one venue's protocol (WebSocket and REST history) on 127.0.0.1, fed live by
// the simulator, until SIGINT/SIGTERM. Point `ingest --feed <v>` at it with TE_FEED_URL and TE_FEED_REST_URL.
import type { Config } from '../config.js';
import { ConfigError } from '../errors.js';
import type { Logger } from '../log.js';
import { LiveStandin, standinVenue } from '../standins/live-standin.js';
import { onShutdown } from './lifecycle.js';

export async function runVenueStandin(config: Config, options: Map<string, string | boolean>, log: Logger): Promise<number> {
  const venueFlag = options.get('venue');
  if (typeof venueFlag !== 'string') throw new ConfigError('--venue', 'is required: binance, coinbase, kraken, bybit or okx');
  const venue = standinVenue(venueFlag);
  const live = await LiveStandin.start({
    venue,
    symbols: config.standinSymbols,
    rate: config.standinRate,
    seed: config.simSeed,
    port: config.standinPort,
    log,
  });
  // One line a user can copy, besides the structured log.
  process.stdout.write(
    `\n  ${venue} stand-in: TE_FEED_URL=${live.url} TE_FEED_REST_URL=${live.restUrl}\n  tick-engine ingest --feed ${venue} --symbols ${live.symbols.join(',')}\n\n`,
  );
  const report = setInterval(
    () => log.info({ venue, sent: live.sent, connections: live.standin.openConnections().length }, 'venue stand-in trades sent'),
    10_000,
  );
  await onShutdown(log, [
    {
      name: 'venue stand-in',
      stop: async () => {
        clearInterval(report);
        await live.stop();
        log.info({ venue, sent: live.sent }, 'venue stand-in stopped');
      },
    },
  ]);
  return 0;
}
