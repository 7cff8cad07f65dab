// The native kernel (native/, a C++ Node-API addon built by npm install) and the switch between it and its TypeScript
// twin (TE_KERNEL). The addon decodes a whole packed batch of tick records into columns in one call; NativeCursor
// reads those columns into the fold's scratch tick, so the fold (aggregate/tick-folder.ts) is the same code on both
// kernels and only decoding differs. Its contract is TickDecoder's (stream/tick-decoder.ts): the same accept/reject
// decisions, the same reasons, the same values — tests/runtime/native-kernel.test.ts checks it on random,
// adversarial and real batches.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ConfigError, NativeLoadError } from '../errors.js';
import type { Side, Tick } from '../contracts/tick.js';
import { LAZY_TRADE_ID, type TickCursor } from '../contracts/tick-cursor.js';
import { projectRoot } from '../paths.js';
import { schema } from '../stream/schemas.js';
import type { PackedBatch } from '../stream/packed-batch.js';
import type { BarAcc } from '../aggregate/ohlcv.js';
import type { BatchOutput, FoldParams } from '../aggregate/tick-folder.js';
import type { LossRange } from '../aggregate/losses.js';
import { utf8String } from '../wire-strings.js';

export type KernelName = 'native' | 'ts';
export type KernelSetting = KernelName | 'auto';

/** What the addon exports (native/src/tick_kernel.cc). */
interface Addon {
  littleEndian: boolean;
  I32_STRIDE: number;
  F64_STRIDE: number;
  PARTIAL_STRIDE: number;
  LOSS_STRIDE: number;
  TickKernel: new (v1Id: number, v2Id: number) => AddonKernel;
}

interface AddonKernel {
  /** Decode the batch into the columns; 1 when the interned ids of earlier batches were dropped before it. */
  decode(data: Uint8Array, lengths: Int32Array, starts: Int32Array | undefined, i32: Int32Array, f64: Float64Array): number;
  /** Fold the records decode() just filled in (native/src/tick_fold.h): its results, or why it left the batch to TypeScript. */
  fold(data: Uint8Array, i32: Int32Array, f64: Float64Array, count: number, offsets: Float64Array, params: Float64Array): number | FoldResult;
}

interface FoldResult {
  /** PARTIAL_STRIDE numbers per partial bar (see PartialCol). */
  partials: Float64Array;
  /** Every bar's volume, quote volume and buy volume partials, end to end. */
  sums: Float64Array;
  /** LOSS_STRIDE numbers per loss range: symbol id, pos, len, from, to, offset, wmBefore. */
  losses: Float64Array;
  watermark: number;
  accepted: number;
}

/** Why the native fold left a batch to the TypeScript fold (native/src/tick_fold.h, FoldOutcome 1–5). */
const DECLINED = ['decode', 'invalid', 'late', 'text', 'inexact'] as const;
export type FoldDeclined = (typeof DECLINED)[number];

/** Batches this thread's native fold folded, and those it left to the TypeScript fold, by reason (tests, bench). */
export const nativeFoldCounts: { folded: number } & Record<FoldDeclined, number> = { folded: 0, decode: 0, invalid: 0, late: 0, text: 0, inexact: 0 };

/** Where node-gyp puts the addon (scripts/build-native.sh). */
export function addonPath(): string {
  return join(projectRoot(), 'native', 'build', 'Release', 'tick_kernel.node');
}

type Loaded = { addon: Addon } | { problem: string };
const loaded = new Map<string, Loaded>();

/** The addon at `path`, or why it cannot be used (not built, or does not load). Loaded once per thread. */
function load(path = addonPath()): Loaded {
  let l = loaded.get(path);
  if (l) return l;
  if (!existsSync(path)) l = { problem: `not built (${path} is missing; npm install builds it: scripts/build-native.sh)` };
  else {
    try {
      const addon = createRequire(import.meta.url)(path) as Addon;
      l = addon.littleEndian ? { addon } : { problem: 'built for a big-endian host, which it does not support' };
    } catch (err) {
      l = { problem: `does not load: ${(err as Error).message}` };
    }
  }
  loaded.set(path, l);
  return l;
}

/**
 * Which kernel runs for a TE_KERNEL setting, and why: `native` when the addon (at `path`: tests only) is built and
 * loads (required for 'native': a ConfigError naming TE_KERNEL otherwise), else `ts`.
 */
export function chooseKernel(setting: KernelSetting, path = addonPath(), opts: { schemaRegistry?: boolean } = {}): { kernel: KernelName; why: string } {
  if (setting === 'ts') return { kernel: 'ts', why: 'TE_KERNEL=ts' };
  // The addon checks the engine's fixed schema ids; a registry's ids are known to the TypeScript decoder only.
  if (opts.schemaRegistry) {
    if (setting === 'native')
      throw new ConfigError('TE_KERNEL', 'the native kernel reads only the fixed schema ids: use auto or ts with TE_SCHEMA_REGISTRY_URL');
    return { kernel: 'ts', why: 'TE_KERNEL=auto, TE_SCHEMA_REGISTRY_URL set (registry ids)' };
  }
  const l = load(path);
  if ('addon' in l) return { kernel: 'native', why: `TE_KERNEL=${setting}, addon built` };
  if (setting === 'native') throw new ConfigError('TE_KERNEL', `the native kernel (native/) cannot run: ${l.problem}`);
  return { kernel: 'ts', why: `TE_KERNEL=auto, native addon ${l.problem}` };
}

/** The addon, or a NativeLoadError (a worker asked for it after the owning thread chose it). */
function addon(): Addon {
  const l = load();
  if ('problem' in l) throw new NativeLoadError(`native kernel ${l.problem}`);
  return l.addon;
}

const SIDES: readonly Side[] = ['BUY', 'SELL', 'UNKNOWN'];
// Column layout of a record (native/src/tick_kernel.cc).
const STATUS = 0;
const VENUE_ID = 1;
const SYMBOL_ID = 4;
const ID_POS = 7;
const ID_LEN = 8;
const VS_ID = 9;
const FLAGS = 12;
const VS_NULL = -2;
const FLAG_ID_LAZY = 4;
const FLAG_SEQ = 8;
const FLAG_SEQ_FIRST = 16;
const EVENT_TIME = 0;
const PRICE = 1;
const SIZE = 2;
const INGEST_TIME = 3;
const LOST_IDS = 4;
const LOST_SINCE = 5;
/** Columns of a partial bar's row in the native fold's results (native/src/tick_kernel.cc, Fold). */
const P = {
  BUCKET_START: 3,
  OPEN: 4,
  OPEN_TIME: 5,
  OPEN_POS: 6,
  OPEN_LEN: 7,
  HIGH: 8,
  LOW: 9,
  CLOSE: 10,
  CLOSE_TIME: 11,
  CLOSE_POS: 12,
  CLOSE_LEN: 13,
  TRADE_COUNT: 14,
  MIN_OFFSET: 15,
  WM_AT_MIN: 16,
  FLAGS: 17,
  VOLUME_LEN: 18,
  QUOTE_LEN: 19,
  BUY_LEN: 20,
} as const;

/**
 * A packed batch decoded by the native kernel, read as a TickCursor: the same ticks, reasons and lazy trade ids as
 * PackedCursor (stream/packed-batch.ts) gives. One cursor serves batch after batch (`of`), so venue and symbol
 * strings are built once per distinct value (the addon interns their bytes into ids).
 */
export class NativeCursor implements TickCursor {
  private readonly kernel: AddonKernel;
  private readonly i32Stride: number;
  private readonly f64Stride: number;
  private i32 = new Int32Array(0);
  private f64 = new Float64Array(0);
  /** The string of each interned id, built the first time it is met. */
  private names: (string | undefined)[] = [];
  private batch: PackedBatch = { data: new Uint8Array(0), lengths: new Int32Array(0), offsets: new Float64Array(0) };
  private buf: Buffer = Buffer.alloc(0);
  private readonly v1Id: number;
  private readonly v2Id: number;
  private readonly partialStride: number;
  private readonly lossStride: number;
  private readonly params = new Float64Array(6);
  count = 0;
  idLazy = false;
  idPos = 0;
  idLen = 0;
  idBuf: Buffer | undefined;

  constructor() {
    const a = addon();
    this.v1Id = schema('tick', { version: 1 }).id;
    this.v2Id = schema('tick', { version: 2 }).id;
    this.kernel = new a.TickKernel(this.v1Id, this.v2Id);
    this.i32Stride = a.I32_STRIDE;
    this.f64Stride = a.F64_STRIDE;
    this.partialStride = a.PARTIAL_STRIDE;
    this.lossStride = a.LOSS_STRIDE;
  }

  /** Decode `batch` whole and point the cursor at its first record. */
  of(batch: PackedBatch): this {
    const n = batch.lengths.length;
    if (this.i32.length < n * this.i32Stride) {
      const cap = Math.max(n, 2 * (this.i32.length / this.i32Stride), 1024);
      this.i32 = new Int32Array(cap * this.i32Stride);
      this.f64 = new Float64Array(cap * this.f64Stride);
    }
    if (this.kernel.decode(batch.data, batch.lengths, batch.starts, this.i32, this.f64) === 1) this.names = [];
    this.batch = batch;
    this.buf = Buffer.from(batch.data.buffer, batch.data.byteOffset, batch.data.byteLength);
    this.idBuf = this.buf;
    this.count = n;
    return this;
  }

  offset(i: number): number {
    return this.batch.offsets[i]!;
  }

  read(i: number, out: Tick): string | null {
    const i32 = this.i32;
    const f64 = this.f64;
    const o = i * this.i32Stride;
    const f = i * this.f64Stride;
    const status = i32[o + STATUS]!;
    if (status !== 0) {
      this.idLazy = false;
      return this.problem(status, f64[f]!);
    }
    const flags = i32[o + FLAGS]!;
    out.venue = this.name(o + VENUE_ID);
    out.symbol = this.name(o + SYMBOL_ID);
    out.eventTime = f64[f + EVENT_TIME]!;
    out.price = f64[f + PRICE]!;
    out.size = f64[f + SIZE]!;
    out.side = SIDES[flags & 3]!;
    this.idPos = i32[o + ID_POS]!;
    this.idLen = i32[o + ID_LEN]!;
    this.idLazy = (flags & FLAG_ID_LAZY) !== 0;
    out.tradeId = this.idLazy ? LAZY_TRADE_ID : utf8String(this.buf, this.idPos, this.idLen);
    out.ingestTime = f64[f + INGEST_TIME]!;
    out.venueSymbol = i32[o + VS_ID] === VS_NULL ? null : this.name(o + VS_ID);
    if ((flags & FLAG_SEQ) === 0) out.sequence = null;
    else {
      const seq = (out.sequence ??= { first: false, lostIds: 0, lostSince: 0 });
      seq.first = (flags & FLAG_SEQ_FIRST) !== 0;
      seq.lostIds = f64[f + LOST_IDS]!;
      seq.lostSince = f64[f + LOST_SINCE]!;
    }
    return null;
  }

  /**
   * Fold the batch `of` decoded into partial bars natively (the whole of TickFolder's work, native/src/tick_fold.h),
   * or undefined when the native fold leaves it to TickFolder over this cursor (a reject, a late tick, non-ASCII text).
   */
  fold(p: FoldParams): BatchOutput | undefined {
    const params = this.params;
    params[0] = p.watermark;
    params[1] = p.maxOutOfOrder;
    params[2] = p.allowedLateness;
    params[3] = p.maxAhead ?? Infinity;
    params[4] = p.origin;
    params[5] = p.interval.micros;
    const r = this.kernel.fold(this.batch.data, this.i32, this.f64, this.count, this.batch.offsets, params);
    if (typeof r === 'number') {
      nativeFoldCounts[DECLINED[r - 1]!]++;
      return undefined;
    }
    nativeFoldCounts.folded++;
    const rows = r.partials;
    const sums = r.sums;
    const buf = this.buf;
    const interval = p.interval.name;
    const partials: BarAcc[] = [];
    let s = 0;
    const take = (n: number): number[] => {
      const out = new Array<number>(n);
      for (let k = 0; k < n; k++) out[k] = sums[s++]!;
      return out;
    };
    for (let o = 0; o < rows.length; o += this.partialStride) {
      const openPos = rows[o + P.OPEN_POS]!;
      const closePos = rows[o + P.CLOSE_POS]!;
      const openId = utf8String(buf, openPos, rows[o + P.OPEN_LEN]!);
      const flags = rows[o + P.FLAGS]!;
      // The key order of ohlcv.ts's bar(): a BarAcc the same in every way, its shape included.
      partials.push({
        symbol: this.symbolAt(rows, o),
        interval,
        bucketStart: rows[o + P.BUCKET_START]!,
        open: rows[o + P.OPEN]!,
        openTime: rows[o + P.OPEN_TIME]!,
        openId,
        high: rows[o + P.HIGH]!,
        low: rows[o + P.LOW]!,
        close: rows[o + P.CLOSE]!,
        closeTime: rows[o + P.CLOSE_TIME]!,
        closeId: closePos === openPos ? openId : utf8String(buf, closePos, rows[o + P.CLOSE_LEN]!),
        volume: take(rows[o + P.VOLUME_LEN]!),
        quoteVolume: take(rows[o + P.QUOTE_LEN]!),
        buyVolume: take(rows[o + P.BUY_LEN]!),
        tradeCount: rows[o + P.TRADE_COUNT]!,
        minOffset: rows[o + P.MIN_OFFSET]!,
        wmAtMin: rows[o + P.WM_AT_MIN]!,
        revision: 0,
        revisedAt: -1,
        known: (flags & 1) !== 0,
        lossy: (flags & 2) !== 0,
      });
    }
    const losses: LossRange[] = [];
    const l = r.losses;
    for (let o = 0; o < l.length; o += this.lossStride)
      losses.push({ symbol: this.symbolAt(l, o), from: l[o + 3]!, to: l[o + 4]!, offset: l[o + 5]!, wmBefore: l[o + 6]! });
    return { partials, late: [], rejects: [], losses, watermark: r.watermark, accepted: r.accepted };
  }

  /** The symbol of a result row whose first three numbers are its interned id, byte position and length. */
  private symbolAt(rows: Float64Array, o: number): string {
    const id = rows[o]!;
    const str = () => utf8String(this.buf, rows[o + 1]!, rows[o + 2]!);
    return id < 0 ? str() : (this.names[id] ??= str());
  }

  /** The string of the (id, pos, len) columns at `at`. */
  private name(at: number): string {
    const i32 = this.i32;
    const id = i32[at]!;
    if (id < 0) return utf8String(this.buf, i32[at + 1]!, i32[at + 2]!);
    return (this.names[id] ??= utf8String(this.buf, i32[at + 1]!, i32[at + 2]!));
  }

  /** The reason TickDecoder gives for the problem the addon reported (`detail`: the number in it). */
  private problem(code: number, detail: number): string {
    switch (code) {
      case 1:
        return `record of ${detail} bytes is shorter than the 5-byte wire-format header`;
      case 2:
        return `unknown magic byte ${detail} (expected 0)`;
      case 3:
        return `schema id ${detail} is not the tick schema (id ${this.v1Id} or ${this.v2Id})`;
      case 4:
        return 'Avro body is truncated for tick';
      case 5:
        return 'Avro body does not decode as tick: potential precision loss';
      case 6:
        return `Avro body does not decode as tick: invalid dev.tickengine.v1.Side enum index: ${detail}`;
      case 7:
        return `Avro body does not decode as tick: invalid union index: ${detail}`;
      case 8:
        return `Avro body does not decode as tick: negative string length ${detail}`;
      case 9:
        return `${detail} trailing bytes after the tick body`;
      default:
        return `native kernel problem code ${code}`;
    }
  }
}
