// The native twin of src/aggregate/tick-folder.ts: folds a decoded batch (the columns of columns.h) into partial bars
// of the base interval — validation, the per-tick watermark, OHLCV with the venue's trade-id order, the binned exact
// sums, and the trade-id sequence's losses — with the TypeScript fold's results, bit for bit.
//
// It folds the ordinary batch and declines the rest, whole, before producing anything: a record that does not
// decode or fails validation (its reason is worded in TypeScript), a late tick, a venue, symbol or trade id that is
// not ASCII (JavaScript counts a string's length in UTF-16 units), bucket arithmetic that is not exact integer
// arithmetic. The TypeScript fold then runs on the same columns (src/runtime/pre-aggregate.ts), so every batch gets
// the same output whichever folds it.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "columns.h"
#include "exact_sum.h"

namespace tick_kernel {

/** What the fold of one batch needs besides the records (FoldParams in tick-folder.ts), all µs. */
struct FoldParams {
  double watermark;
  double maxOutOfOrder;
  double allowedLateness;
  double maxAhead;
  double origin;
  double base;
};

/** Why a batch was left to the TypeScript fold (0: folded here). Named in src/runtime/native-kernel.ts. */
enum FoldOutcome : int32_t { FOLDED = 0, DECLINE_DECODE = 1, DECLINE_INVALID = 2, DECLINE_LATE = 3, DECLINE_TEXT = 4, DECLINE_INEXACT = 5 };

/** A partial bar (BarAcc with its BarSums); strings are byte ranges of the batch's data. */
struct Partial {
  int32_t symbolId = 0, symbolPos = 0, symbolLen = 0;
  double bucketStart = 0, open = 0, openTime = 0;
  int32_t openPos = 0, openLen = 0;
  double high = 0, low = 0, close = 0, closeTime = 0;
  int32_t closePos = 0, closeLen = 0;
  double tradeCount = 0, minOffset = 0, wmAtMin = 0;
  bool known = false, lossy = false;
  BinnedSum volume, quoteVolume, buyVolume;
};

/** A LossRange (aggregate/losses.ts), its symbol as in Partial. */
struct Loss {
  int32_t symbolId, symbolPos, symbolLen;
  double from, to, offset, wmBefore;
};

class TickFold {
 public:
  explicit TickFold(size_t symbolCapacity) : symbols_(symbolCapacity) {}

  /** Fold `count` decoded records; FOLDED, or why not (and then nothing here is meaningful). */
  FoldOutcome run(const uint8_t* buf, const int32_t* i32, const double* f64, size_t count, const double* offsets, const FoldParams& p) {
    partialCount_ = 0;
    losses_.clear();
    accepted_ = 0;
    wm_ = p.watermark;
    if (++generation_ == 0) {
      for (auto& s : symbols_) s.generation = 0;
      generation_ = 1;
    }
    byStartUsed_ = 0;
    if (!safeInteger(p.origin) || !safeInteger(p.base)) return DECLINE_INEXACT;
    const double base = p.base;
    for (size_t i = 0; i < count; i++, i32 += I32_STRIDE, f64 += F64_STRIDE) {
      if (i32[STATUS] != 0) return DECLINE_DECODE;
      const FoldOutcome v = validate(buf, i32, f64, p.maxAhead);
      if (v != FOLDED) return v;
      const int32_t symbolId = i32[SYMBOL_ID];
      if (symbolId < 0 || static_cast<size_t>(symbolId) >= symbols_.size()) return DECLINE_TEXT;
      const double t = f64[EVENT_TIME];
      const double wm = wm_;
      Symbol& sym = symbols_[symbolId];
      const bool seen = sym.generation == generation_;
      const double baseStart = seen && t >= sym.start && t - sym.start < base ? sym.start : bucketStart(t, base, p.origin);
      if (baseStart + base <= wm) return DECLINE_LATE;
      const double candidate = t - p.maxOutOfOrder;
      if (candidate > wm) wm_ = candidate;
      const double offset = offsets[i];
      Partial* acc;
      if (!seen) {
        sym.generation = generation_;
        sym.start = baseStart;
        sym.index = newPartial(i32, f64, baseStart, offset, wm);
        sym.byStart = -1;
        acc = &partials_[sym.index];
      } else if (sym.start == baseStart) {
        acc = &partials_[sym.index];
        addTick(*acc, buf, i32, f64, offset, wm);
      } else {
        if (sym.byStart < 0) {
          sym.byStart = static_cast<int32_t>(byStartUsed_++);
          if (byStart_.size() < byStartUsed_) byStart_.emplace_back();
          byStart_[sym.byStart].clear();
          byStart_[sym.byStart].emplace_back(sym.start, sym.index);
        }
        auto& list = byStart_[sym.byStart];
        int32_t index = -1;
        for (const auto& e : list)
          if (e.first == baseStart) index = e.second;
        if (index >= 0) addTick(partials_[index], buf, i32, f64, offset, wm);
        else {
          index = newPartial(i32, f64, baseStart, offset, wm);
          list.emplace_back(baseStart, index);
        }
        sym.start = baseStart;
        sym.index = index;
        acc = &partials_[index];
      }
      sequenced(*acc, i32, f64, offset, wm);
      accepted_++;
    }
    return FOLDED;
  }

  size_t partialCount() const { return partialCount_; }
  Partial& partial(size_t i) { return partials_[i]; }
  const std::vector<Loss>& losses() const { return losses_; }
  double watermark() const { return wm_; }
  double accepted() const { return accepted_; }

 private:
  struct Symbol {
    uint32_t generation = 0;
    double start = 0;
    int32_t index = 0;
    int32_t byStart = -1;
  };

  static constexpr double MIN_TIME = 946684800000000.0;
  static constexpr double MAX_TIME = 7258118400000000.0;
  static constexpr double MAX_AMOUNT = 1e15;

  static bool safeInteger(double v) { return std::isfinite(v) && std::trunc(v) == v && std::fabs(v) <= 9007199254740991.0; }

  static bool ascii(const uint8_t* p, int32_t n) {
    uint8_t o = 0;
    for (int32_t i = 0; i < n; i++) o |= p[i];
    return o < 0x80;
  }

  static bool amount(double v) { return v > 0 && v <= MAX_AMOUNT; }

  // tickProblem's decision (contracts/validate.ts) for strings of ASCII bytes, where a string's length is its bytes.
  static FoldOutcome validate(const uint8_t* buf, const int32_t* i32, const double* f64, double maxAhead) {
    const int32_t symbolLen = i32[SYMBOL_LEN], venueLen = i32[VENUE_LEN];
    if (!ascii(buf + i32[SYMBOL_POS], symbolLen) || !ascii(buf + i32[VENUE_POS], venueLen)) return DECLINE_TEXT;
    // The trade id is left as bytes (FLAG_ID_LAZY) exactly when it is 1-128 ASCII bytes.
    if ((i32[FLAGS] & FLAG_ID_LAZY) == 0) return DECLINE_TEXT;
    if (symbolLen < 1 || symbolLen > 64 || venueLen < 1 || venueLen > 64) return DECLINE_INVALID;
    const double t = f64[EVENT_TIME];
    if (!std::isfinite(t) || std::trunc(t) != t || t < MIN_TIME || t > MAX_TIME) return DECLINE_INVALID;
    const double ingest = f64[INGEST_TIME];
    if (ingest > 0 && t - ingest > maxAhead) return DECLINE_INVALID;
    if (!amount(f64[PRICE]) || !amount(f64[SIZE])) return DECLINE_INVALID;
    return FOLDED;
  }

  // bucket.ts: the start of the bucket of `width` holding t, aligned to origin (JavaScript's % is fmod).
  static double bucketStart(double t, double width, double origin) {
    const double r = std::fmod(t - origin, width);
    return r < 0 ? (t - r) - width : t - r;
  }

  // Where a numeric id's significant digits start (n for all zeros), or -1 if not all decimal digits.
  static int32_t digitsFrom(const uint8_t* s, int32_t n) {
    if (n == 0) return -1;
    int32_t start = -1;
    for (int32_t i = 0; i < n; i++) {
      const uint8_t c = s[i];
      if (c < 48 || c > 57) return -1;
      if (start < 0 && c != 48) start = i;
    }
    return start < 0 ? n : start;
  }

  // compareTradeIds (contracts/trade-order.ts) for ASCII ids: numeric ids as numbers, then the string order.
  static int compareIds(const uint8_t* a, int32_t na, const uint8_t* b, int32_t nb) {
    if (na == nb && std::memcmp(a, b, static_cast<size_t>(na < 0 ? 0 : na)) == 0) return 0;
    const int32_t da = digitsFrom(a, na), db = digitsFrom(b, nb);
    if (da >= 0 && db >= 0) {
      const int32_t byLength = (na - da) - (nb - db);
      if (byLength != 0) return byLength;
      for (int32_t i = 0; i < na - da; i++) {
        const int d = static_cast<int>(a[da + i]) - static_cast<int>(b[db + i]);
        if (d != 0) return d;
      }
    } else if (da >= 0) {
      return -1;
    } else if (db >= 0) {
      return 1;
    }
    const int c = std::memcmp(a, b, static_cast<size_t>(static_cast<uint32_t>(na < nb ? na : nb)));
    if (c != 0) return c < 0 ? -1 : 1;
    return na < nb ? -1 : 1;
  }

  // ohlcv.ts `before`: (t1, id1) strictly before (t2, id2).
  static bool before(const uint8_t* buf, double t1, int32_t p1, int32_t n1, double t2, int32_t p2, int32_t n2) {
    return t1 < t2 || (t1 == t2 && compareIds(buf + p1, n1, buf + p2, n2) < 0);
  }

  static void addVolumes(Partial& a, const int32_t* i32, const double* f64) {
    const double size = f64[SIZE];
    a.volume.add(size);
    a.quoteVolume.add(f64[PRICE] * size);
    if ((i32[FLAGS] & 3) == 0) a.buyVolume.add(size);  // side index 0: BUY
  }

  // newAcc with BarSums: a bar of one trade.
  int32_t newPartial(const int32_t* i32, const double* f64, double bucketStart, double offset, double wmBefore) {
    if (partials_.size() <= partialCount_) partials_.emplace_back();
    Partial& a = partials_[partialCount_];
    a.symbolId = i32[SYMBOL_ID];
    a.symbolPos = i32[SYMBOL_POS];
    a.symbolLen = i32[SYMBOL_LEN];
    a.bucketStart = bucketStart;
    const double price = f64[PRICE], t = f64[EVENT_TIME];
    a.open = a.high = a.low = a.close = price;
    a.openTime = a.closeTime = t;
    a.openPos = a.closePos = i32[ID_POS];
    a.openLen = a.closeLen = i32[ID_LEN];
    a.tradeCount = 1;
    a.minOffset = offset;
    a.wmAtMin = wmBefore;
    a.known = a.lossy = false;
    a.volume.reset();
    a.quoteVolume.reset();
    a.buyVolume.reset();
    addVolumes(a, i32, f64);
    return static_cast<int32_t>(partialCount_++);
  }

  // addTick with BarSums.
  static void addTick(Partial& a, const uint8_t* buf, const int32_t* i32, const double* f64, double offset, double wmBefore) {
    const double p = f64[PRICE], t = f64[EVENT_TIME];
    const int32_t idPos = i32[ID_POS], idLen = i32[ID_LEN];
    if (before(buf, t, idPos, idLen, a.openTime, a.openPos, a.openLen)) {
      a.open = p;
      a.openTime = t;
      a.openPos = idPos;
      a.openLen = idLen;
    }
    if (before(buf, a.closeTime, a.closePos, a.closeLen, t, idPos, idLen)) {
      a.close = p;
      a.closeTime = t;
      a.closePos = idPos;
      a.closeLen = idLen;
    }
    if (p > a.high) a.high = p;
    if (p < a.low) a.low = p;
    addVolumes(a, i32, f64);
    a.tradeCount++;
    if (offset < a.minOffset) {
      a.minOffset = offset;
      a.wmAtMin = wmBefore;
    }
  }

  // TickFolder#sequenced: a trade-id sequence makes the bar's completeness knowable; a break in it is a loss.
  void sequenced(Partial& a, const int32_t* i32, const double* f64, double offset, double wmBefore) {
    const int32_t flags = i32[FLAGS];
    if ((flags & FLAG_SEQ) == 0) return;
    a.known = true;
    const bool first = (flags & FLAG_SEQ_FIRST) != 0;
    if (!first && !(f64[LOST_IDS] > 0)) return;
    a.lossy = true;
    const double t = f64[EVENT_TIME], since = f64[LOST_SINCE];
    // Math.min(since, t): NaN if either is NaN.
    const double from = first ? -INFINITY : (std::isnan(since) || std::isnan(t)) ? NAN : (since < t ? since : t);
    losses_.push_back({i32[SYMBOL_ID], i32[SYMBOL_POS], i32[SYMBOL_LEN], from, t, offset, wmBefore});
  }

  std::vector<Symbol> symbols_;
  uint32_t generation_ = 0;
  std::vector<std::vector<std::pair<double, int32_t>>> byStart_;
  size_t byStartUsed_ = 0;
  std::vector<Partial> partials_;
  size_t partialCount_ = 0;
  std::vector<Loss> losses_;
  double wm_ = 0;
  double accepted_ = 0;
};

}  // namespace tick_kernel
