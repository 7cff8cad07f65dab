// The load command's own options (kept apart from load.ts so --help does not load the harness).
import type { CommandOptions } from './args.js';

export const LOAD_OPTIONS = {
  url: ['string', 'WebSocket URL of a running gateway (ws://127.0.0.1:8088/ws); default: start one on private topics, fed by the synthetic feed'],
  token: ['string', "a JWT, sent as 'Authorization: Bearer' on every upgrade and REST request (a gateway with TE_AUTH=true)"],
  apikey: ['string', "an API key, sent as 'X-API-Key' (a gateway with TE_AUTH=true)"],
  feed: ['string', "synthetic (produce the scenario's bars to the gateway's topics; the default without --url) or none (the gateway has its upstream)"],
  param: ['string', 'scenario parameters, name=value[,name=value]: e.g. --param duration=30m for soak'],
  threshold: ['string', "extra thresholds, ';'-separated: --threshold 'latency.send.p99 < 50;gaps == 0'"],
  workers: ['string', "the generator's worker threads (default: the scenario's, else one per core)"],
  out: ['string', 'folder for the JSON result and HTML report (default bench/results)'],
  quiet: ['boolean', 'no live progress line'],
} as const satisfies CommandOptions;
