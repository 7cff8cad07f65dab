// The signal contract (Avro schemas/signal.avsc, the stores' signals tables, the WebSocket signals channel):
// computed from final bars only, so the same bars always give the same signals.

export interface Signal {
  symbol: string;
  interval: string;
  /** Bucket start of the bar that produced it, µs. */
  barTime: number;
  name: 'sma_cross' | 'macd_cross' | 'rsi_zone' | 'bollinger_breakout';
  direction: 'UP' | 'DOWN';
  /** sma_cross: [fast, slow]; macd_cross: [macd, signal]; rsi_zone: [rsi]; bollinger_breakout: [close, upper, lower]. */
  values: number[];
}
