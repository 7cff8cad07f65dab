// The incremental indicators' public surface: import from here, not from the individual files.
export { type Indicator } from './indicator.js';
export { Sma } from './sma.js';
export { Ema } from './ema.js';
export { Rsi } from './rsi.js';
export { Macd, type MacdValue } from './macd.js';
export { Bollinger, bands, type BollingerValue } from './bollinger.js';
export { Atr, trueRange, type AtrInput } from './atr.js';
export { Vwap, type VwapInput } from './vwap.js';
export { crossing, levelCrossing, rsiZoneCrossing, type CrossDirection } from './crossings.js';
export { RingBuffer } from './ring-buffer.js';
export { ExactWindow, exactMeanOf, exactVarianceOf } from './exact-window.js';
