// The native twin of src/stream/tick-decoder.ts (see native/README.md): decodes a packed batch of tick records
// (schema-registry wire format: magic 0, 4-byte big-endian schema id, Avro body of schemas/tick.avsc or tick-v2.avsc)
// into columns the TypeScript fold reads with no per-tick object (src/runtime/native-kernel.ts).
//
// Contract: the same accept/reject decision, the same field values (doubles bit for bit) and the same first
// problem as TickDecoder#decodeInto for every byte string. The varint arithmetic therefore copies avsc's, as the
// TypeScript decoder does: int32 arithmetic for the first 28 bits, then doubles (IEEE, no contraction into FMA:
// binding.gyp builds with -ffp-contract=off). Strings are not decoded here: the columns give their bytes' place
// (and, for venues, symbols and venue symbols, a small interned id), and TypeScript builds each distinct one once.
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "columns.h"
#include "tick_fold.h"

namespace {

using namespace tick_kernel;

// Problem codes (the TypeScript side words them exactly as TickDecoder does; DETAIL is the number in the message).
enum Problem : int32_t {
  OK = 0,
  HEADER = 1,       // record shorter than the header; detail: its length
  MAGIC = 2,        // detail: the magic byte
  SCHEMA_ID = 3,    // detail: the schema id
  TRUNCATED = 4,
  PRECISION = 5,    // a timestamp outside avsc's safe-long bound
  SIDE = 6,         // detail: the enum index
  UNION = 7,        // detail: the union index
  NEG_LENGTH = 8,   // detail: the string length
  TRAILING = 9,     // detail: the number of trailing bytes
};

constexpr double MAX_SAFE_LONG = 9007199254740990.0;
constexpr double TWO28 = 268435456.0;

// JavaScript's truthiness of a number: non-zero and not NaN.
inline bool truthy(double v) { return v != 0 && !std::isnan(v); }

// (f % 2 ? -(f + 1) : f) / 2, with JavaScript's % (fmod) and truthiness.
inline double unzigzag(double f) { return (truthy(std::fmod(f, 2.0)) ? -(f + 1) : f) / 2; }

// The same for an integer u < 2^53 (so u, u + 1 and every result are exact doubles), without fmod.
inline double unzigzagInt(uint64_t u) { return (u & 1) ? -static_cast<double>((u >> 1) + 1) : static_cast<double>(u >> 1); }

// Byte strings to small ids, so TypeScript builds each venue and symbol string once. Bounded: it is cleared between
// batches when it could overflow, and a string it cannot take gets NOT_INTERNED.
//
// Each slot of the open-addressing table holds its string's key inline: the length and two words that, for a string
// of up to 16 bytes, are the string itself (overlapping loads: the first and last 4 or 8 bytes). A lookup is then one
// slot read and three compares; only strings over 16 bytes are also compared byte by byte. (With the ids in the slots
// and the strings in a side table, the chain of dependent loads made the lookup 40 % of decode's time.)
class Interner {
 public:
  static constexpr uint32_t MAX_ENTRIES = 1u << 16;
  static constexpr uint32_t MAX_LEN = 64;

  // `field`: which field (0 venue, 1 symbol, 2 venue symbol); each remembers the slot of its last string, checked
  // first (most records of a batch come from one venue). That slot may since hold another string or none (grow() moves
  // entries, clear() empties them): it answers only when it holds this key.
  inline __attribute__((always_inline)) int32_t get(int field, const uint8_t* p, uint32_t n) {
    if (n > MAX_LEN) return NOT_INTERNED;
    Key k;
    keyOf(p, n, k);
    const Slot& e = slots_[lastSlot_[field]];
    if (e.id >= 0 && e.key == k && (n <= 16 || same(bytes_.data() + offs_[e.id], p, n))) return e.id;
    return find(p, n, k, lastSlot_[field]);
  }

  size_t size() const { return offs_.size(); }
  void clear() {
    offs_.clear();
    bytes_.clear();
    slots_.assign(1024, Slot{});
    lastSlot_[0] = lastSlot_[1] = lastSlot_[2] = 0;  // within the smaller table
  }
  Interner() { slots_.assign(1024, Slot{}); }

 private:
  struct Key {
    uint64_t a = 0, b = 0;
    uint32_t n = 0;
    bool operator==(const Key& o) const { return a == o.a && b == o.b && n == o.n; }
  };
  struct Slot {
    Key key;
    int32_t id = -1;  // -1: empty
  };

  static inline __attribute__((always_inline)) void keyOf(const uint8_t* p, uint32_t n, Key& k) {
    k.n = n;
    if (n >= 8) {
      std::memcpy(&k.a, p, 8);
      std::memcpy(&k.b, p + n - 8, 8);
    } else if (n >= 4) {
      uint32_t x, y;
      std::memcpy(&x, p, 4);
      std::memcpy(&y, p + n - 4, 4);
      k.a = (static_cast<uint64_t>(y) << 32) | x;
      k.b = 0;
    } else {
      k.a = n == 0 ? 0 : static_cast<uint64_t>(p[0]) | (static_cast<uint64_t>(p[n >> 1]) << 8) | (static_cast<uint64_t>(p[n - 1]) << 16);
      k.b = 0;
    }
  }

  // Mixed so that the low bits, which pick the slot, depend on every byte of the key.
  static uint32_t hash(const Key& k) {
    uint64_t h = (k.a ^ (static_cast<uint64_t>(k.n) << 56)) * 0xff51afd7ed558ccdull;
    h ^= h >> 32;
    h = (h ^ k.b) * 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 29;
    return static_cast<uint32_t>(h);
  }

  // Equal bytes, eight at a time (a short string's compare without a call into libc).
  static bool same(const char* a, const uint8_t* b, uint32_t n) {
    uint32_t i = 0;
    for (; i + 8 <= n; i += 8) {
      uint64_t x, y;
      std::memcpy(&x, a + i, 8);
      std::memcpy(&y, b + i, 8);
      if (x != y) return false;
    }
    for (; i < n; i++)
      if (static_cast<uint8_t>(a[i]) != b[i]) return false;
    return true;
  }

  int32_t find(const uint8_t* p, uint32_t n, const Key& k, uint32_t& slot) {
    const uint32_t mask = static_cast<uint32_t>(slots_.size()) - 1;
    for (uint32_t s = hash(k) & mask;; s = (s + 1) & mask) {
      Slot& e = slots_[s];
      if (e.id < 0) {
        if (offs_.size() >= MAX_ENTRIES) return NOT_INTERNED;
        const int32_t id = static_cast<int32_t>(offs_.size());
        offs_.push_back(static_cast<uint32_t>(bytes_.size()));
        bytes_.append(reinterpret_cast<const char*>(p), n);
        e.key = k;
        e.id = id;
        slot = s;
        if (offs_.size() * 2 > slots_.size()) slot = grow(id);
        return id;
      }
      if (e.key == k && (n <= 16 || same(bytes_.data() + offs_[e.id], p, n))) {
        slot = s;
        return e.id;
      }
    }
  }

  // Doubles the table; returns the new slot of `track`.
  uint32_t grow(int32_t track) {
    std::vector<Slot> next(slots_.size() * 2);
    const uint32_t mask = static_cast<uint32_t>(next.size()) - 1;
    uint32_t tracked = 0;
    for (const Slot& e : slots_) {
      if (e.id < 0) continue;
      uint32_t s = hash(e.key) & mask;
      while (next[s].id >= 0) s = (s + 1) & mask;
      next[s] = e;
      if (e.id == track) tracked = s;
    }
    slots_.swap(next);
    return tracked;
  }

  std::vector<uint32_t> offs_;  // each id's bytes in bytes_ (compared for strings over 16 bytes)
  std::string bytes_;
  std::vector<Slot> slots_;
  uint32_t lastSlot_[3] = {0, 0, 0};
};

// One record's reader: the same steps, in the same order, as TickDecoder's.
struct Reader {
  const uint8_t* b;
  uint32_t pos;
  uint32_t end;
  int32_t problem = OK;
  double detail = 0;
  double value = 0;

  bool truncated() {
    problem = TRUNCATED;
    return false;
  }

  // avsc's Tap#readLong, as TickDecoder#readLong computes it. A one-byte varint (lengths, indexes) first.
  inline __attribute__((always_inline)) bool readLong() {
    if (pos < end && b[pos] < 0x80) {
      const int32_t n = b[pos++];
      value = static_cast<double>((n >> 1) ^ -(n & 1));
      return true;
    }
    return readLongSlow();
  }

  bool readLongSlow() {
    uint32_t p = pos;
    int32_t n = 0;
    int k = 0;
    uint32_t byte;
    uint32_t more;
    do {
      if (p >= end) return truncated();
      byte = b[p++];
      more = byte & 0x80;
      n |= static_cast<int32_t>((byte & 0x7f) << k);
      k += 7;
    } while (more && k < 28);
    if (!more) {
      pos = p;
      value = static_cast<double>((n >> 1) ^ -(n & 1));
      return true;
    }
    int32_t rest = 0;
    int shift = 0;
    uint32_t q = p;
    do {
      if (q >= end) return truncated();
      byte = b[q++];
      rest |= static_cast<int32_t>((byte & 0x7f) << shift);
      shift += 7;
    } while ((byte & 0x80) && shift < 28);
    if (!(byte & 0x80) && rest < 0x2000000) {
      pos = q;
      value = unzigzagInt(static_cast<uint64_t>(n) + (static_cast<uint64_t>(rest) << 28));
      return true;
    }
    double f = n;
    double fk = TWO28;
    do {
      if (p >= end) return truncated();
      byte = b[p++];
      f += static_cast<double>(byte & 0x7f) * fk;
      fk *= 128;
    } while (byte & 0x80);
    pos = p;
    value = unzigzag(f);
    return true;
  }

  inline __attribute__((always_inline)) bool timestamp() {
    if (pos + 8 <= end) {
      const uint8_t* q = b + pos;
      if (q[7] < 16 && (q[0] & q[1] & q[2] & q[3] & q[4] & q[5] & q[6] & 0x80)) {
        int32_t n = (q[0] & 0x7f) | ((q[1] & 0x7f) << 7) | ((q[2] & 0x7f) << 14) | ((q[3] & 0x7f) << 21);
        int32_t rest = (q[4] & 0x7f) | ((q[5] & 0x7f) << 7) | ((q[6] & 0x7f) << 14) | (q[7] << 21);
        value = unzigzagInt(static_cast<uint64_t>(n) + (static_cast<uint64_t>(rest) << 28));
        pos += 8;
        return true;
      }
    }
    if (!readLong()) return false;
    if (!(value >= -MAX_SAFE_LONG && value <= MAX_SAFE_LONG)) {
      problem = PRECISION;
      return false;
    }
    return true;
  }

  bool dbl() {
    if (pos + 8 > end) return truncated();
    std::memcpy(&value, b + pos, 8);  // little-endian hosts only (checked at load)
    pos += 8;
    return true;
  }

  // A string's bytes: their start in `start`, length in `len`.
  inline __attribute__((always_inline)) bool span(uint32_t& start, uint32_t& len) {
    if (!readLong()) return false;
    double n = value;
    if (!(n >= 0)) {
      problem = NEG_LENGTH;
      detail = n;
      return false;
    }
    if (n > static_cast<double>(end - pos)) return truncated();
    start = pos;
    len = static_cast<uint32_t>(n);
    pos += len;
    return true;
  }

  // A union's branch index (0 or 1), or -1 with the problem set.
  inline __attribute__((always_inline)) int unionIndex() {
    if (!readLong()) return -1;
    if (value == 0 || value == 1) return static_cast<int>(value);
    problem = UNION;
    detail = value;
    return -1;
  }
};

inline bool idCanStayBytes(const uint8_t* p, uint32_t n) {
  if (n < 1 || n > 128) return false;
  uint8_t o = 0;
  for (uint32_t i = 0; i < n; i++) o |= p[i];
  return o < 0x80;
}

class Kernel : public Napi::ObjectWrap<Kernel> {
 public:
  static Napi::Object Init(Napi::Env env, Napi::Object exports) {
    Napi::Function f = DefineClass(env, "TickKernel", {InstanceMethod("decode", &Kernel::Decode), InstanceMethod("fold", &Kernel::Fold)});
    exports.Set("TickKernel", f);
    exports.Set("I32_STRIDE", Napi::Number::New(env, I32_STRIDE));
    exports.Set("F64_STRIDE", Napi::Number::New(env, F64_STRIDE));
    exports.Set("PARTIAL_STRIDE", Napi::Number::New(env, PARTIAL_STRIDE));
    exports.Set("LOSS_STRIDE", Napi::Number::New(env, LOSS_STRIDE));
    return exports;
  }

  // Rows of fold's results (read by src/runtime/native-kernel.ts).
  static constexpr int PARTIAL_STRIDE = 21;
  static constexpr int LOSS_STRIDE = 7;

  explicit Kernel(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Kernel>(info), fold_(Interner::MAX_ENTRIES) {
    v1_ = info[0].As<Napi::Number>().DoubleValue();
    v2_ = info[1].As<Napi::Number>().DoubleValue();
  }

 private:
  // decode(data: Uint8Array, lengths: Int32Array, starts: Int32Array | undefined, i32: Int32Array, f64: Float64Array)
  // → 1 when the interner was cleared before this batch (ids of earlier batches are void), else 0.
  Napi::Value Decode(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto data = info[0].As<Napi::Uint8Array>();
    auto lengths = info[1].As<Napi::Int32Array>();
    const bool hasStarts = info[2].IsTypedArray();
    auto i32 = info[3].As<Napi::Int32Array>();
    auto f64 = info[4].As<Napi::Float64Array>();
    const size_t count = lengths.ElementLength();
    if (i32.ElementLength() < count * I32_STRIDE || f64.ElementLength() < count * F64_STRIDE) {
      Napi::RangeError::New(env, "output columns too short for the batch").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    const int32_t* starts = nullptr;
    if (hasStarts) {
      auto s = info[2].As<Napi::Int32Array>();
      if (s.ElementLength() < count) {
        Napi::RangeError::New(env, "starts shorter than lengths").ThrowAsJavaScriptException();
        return env.Undefined();
      }
      starts = s.Data();
    }
    const uint8_t* buf = data.Data();
    const size_t size = data.ByteLength();
    const int32_t* lens = lengths.Data();
    // Check every record's place first: the loop below then reads in bounds.
    {
      size_t pos = 0;
      for (size_t i = 0; i < count; i++) {
        const int32_t len = lens[i];
        if (len < 0) continue;
        if (starts) pos = static_cast<size_t>(starts[i] < 0 ? SIZE_MAX : starts[i]);
        if (pos > size || static_cast<size_t>(len) > size - pos) {
          Napi::RangeError::New(env, "a record lies outside the batch's data").ThrowAsJavaScriptException();
          return env.Undefined();
        }
        pos += len;
      }
    }
    int32_t cleared = 0;
    if (interner_.size() + 3 * count > Interner::MAX_ENTRIES) {
      interner_.clear();
      cleared = 1;
    }
    int32_t* out = i32.Data();
    double* fo = f64.Data();
    uint32_t pos = 0;
    for (size_t i = 0; i < count; i++, out += I32_STRIDE, fo += F64_STRIDE) {
      const int32_t len = lens[i];
      if (len < 0) {
        out[STATUS] = HEADER;
        fo[0] = 0;
        continue;
      }
      if (starts) pos = static_cast<uint32_t>(starts[i]);
      const uint32_t start = pos;
      const uint32_t end = pos + static_cast<uint32_t>(len);
      pos = end;
      decodeOne(buf, start, end, out, fo);
    }
    return Napi::Number::New(env, cleared);
  }

  // fold(data: Uint8Array, i32: Int32Array, f64: Float64Array, count: number, offsets: Float64Array,
  //      params: Float64Array [watermark, maxOutOfOrder, allowedLateness, maxAhead, origin, base])
  // → the decline code (a number) when the TypeScript fold must run (tick_fold.h), else
  //   { partials: Float64Array (PARTIAL_STRIDE per bar), sums: Float64Array, losses: Float64Array, watermark, accepted }.
  // The columns are those decode() just filled for this batch's `count` records.
  Napi::Value Fold(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto data = info[0].As<Napi::Uint8Array>();
    auto i32 = info[1].As<Napi::Int32Array>();
    auto f64 = info[2].As<Napi::Float64Array>();
    const size_t count = static_cast<size_t>(info[3].As<Napi::Number>().Int64Value());
    auto offsets = info[4].As<Napi::Float64Array>();
    auto params = info[5].As<Napi::Float64Array>();
    if (i32.ElementLength() < count * I32_STRIDE || f64.ElementLength() < count * F64_STRIDE || offsets.ElementLength() < count ||
        params.ElementLength() < 6) {
      Napi::RangeError::New(env, "fold: columns, offsets or params too short for the batch").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    const double* pp = params.Data();
    const FoldParams p{pp[0], pp[1], pp[2], pp[3], pp[4], pp[5]};
    const FoldOutcome outcome = fold_.run(data.Data(), i32.Data(), f64.Data(), count, offsets.Data(), p);
    if (outcome != FOLDED) return Napi::Number::New(env, outcome);
    const size_t n = fold_.partialCount();
    // Each bar's three exact sums, drained now (BinnedSum.take), laid end to end.
    sums_.clear();
    auto rows = Napi::Float64Array::New(env, n * PARTIAL_STRIDE);
    double* r = rows.Data();
    for (size_t k = 0; k < n; k++, r += PARTIAL_STRIDE) {
      Partial& a = fold_.partial(k);
      size_t lens[3];
      BinnedSum* sums[3] = {&a.volume, &a.quoteVolume, &a.buyVolume};
      for (int j = 0; j < 3; j++) {
        sums[j]->take(scratch_);
        lens[j] = scratch_.size();
        sums_.insert(sums_.end(), scratch_.begin(), scratch_.end());
      }
      const double row[PARTIAL_STRIDE] = {
          static_cast<double>(a.symbolId), static_cast<double>(a.symbolPos), static_cast<double>(a.symbolLen), a.bucketStart, a.open,
          a.openTime, static_cast<double>(a.openPos), static_cast<double>(a.openLen), a.high, a.low, a.close, a.closeTime,
          static_cast<double>(a.closePos), static_cast<double>(a.closeLen), a.tradeCount, a.minOffset, a.wmAtMin,
          static_cast<double>((a.known ? 1 : 0) | (a.lossy ? 2 : 0)), static_cast<double>(lens[0]), static_cast<double>(lens[1]),
          static_cast<double>(lens[2])};
      std::memcpy(r, row, sizeof row);
    }
    auto sums = Napi::Float64Array::New(env, sums_.size());
    if (!sums_.empty()) std::memcpy(sums.Data(), sums_.data(), sums_.size() * sizeof(double));
    const auto& losses = fold_.losses();
    auto lossRows = Napi::Float64Array::New(env, losses.size() * LOSS_STRIDE);
    double* l = lossRows.Data();
    for (const Loss& x : losses) {
      const double row[LOSS_STRIDE] = {static_cast<double>(x.symbolId), static_cast<double>(x.symbolPos), static_cast<double>(x.symbolLen), x.from,
                                       x.to, x.offset, x.wmBefore};
      std::memcpy(l, row, sizeof row);
      l += LOSS_STRIDE;
    }
    Napi::Object out = Napi::Object::New(env);
    out.Set("partials", rows);
    out.Set("sums", sums);
    out.Set("losses", lossRows);
    out.Set("watermark", Napi::Number::New(env, fold_.watermark()));
    out.Set("accepted", Napi::Number::New(env, fold_.accepted()));
    return out;
  }

  void decodeOne(const uint8_t* buf, uint32_t start, uint32_t end, int32_t* out, double* fo) {
    if (end - start < 5) {
      out[STATUS] = HEADER;
      fo[0] = end - start;
      return;
    }
    if (buf[start] != 0) {
      out[STATUS] = MAGIC;
      fo[0] = buf[start];
      return;
    }
    const double id = static_cast<double>((static_cast<uint32_t>(buf[start + 1]) << 24) | (buf[start + 2] << 16) | (buf[start + 3] << 8) | buf[start + 4]);
    const int version = id == v2_ ? 2 : id == v1_ ? 1 : 0;
    if (version == 0) {
      out[STATUS] = SCHEMA_ID;
      fo[0] = id;
      return;
    }
    Reader r{buf, start + 5, end};
    if (!body(r, out, fo, version)) {
      out[STATUS] = r.problem;
      fo[0] = r.detail;
      return;
    }
    if (r.pos != end) {
      out[STATUS] = TRAILING;
      fo[0] = end - r.pos;
      return;
    }
    out[STATUS] = OK;
  }

  // The body in field order; on failure the reader holds the first problem. Writes the columns as it goes (a
  // rejected record's columns other than STATUS and the detail are meaningless).
  bool body(Reader& r, int32_t* out, double* fo, int version) {
    uint32_t s, n;
    if (!r.span(s, n)) return false;
    out[VENUE_ID] = interner_.get(0, r.b + s, n);
    out[VENUE_POS] = s;
    out[VENUE_LEN] = n;
    if (!r.span(s, n)) return false;
    out[SYMBOL_ID] = interner_.get(1, r.b + s, n);
    out[SYMBOL_POS] = s;
    out[SYMBOL_LEN] = n;
    if (!r.timestamp()) return false;
    fo[EVENT_TIME] = r.value;
    if (!r.dbl()) return false;
    fo[PRICE] = r.value;
    if (!r.dbl()) return false;
    fo[SIZE] = r.value;
    if (!r.readLong()) return false;
    const double side = r.value;
    if (!(side == 0 || side == 1 || side == 2)) {
      r.problem = SIDE;
      r.detail = side;
      return false;
    }
    int32_t flags = static_cast<int32_t>(side);
    if (!r.span(s, n)) return false;
    out[ID_POS] = s;
    out[ID_LEN] = n;
    if (idCanStayBytes(r.b + s, n)) flags |= FLAG_ID_LAZY;
    if (!r.timestamp()) return false;
    fo[INGEST_TIME] = r.value;
    out[VS_ID] = VS_NULL;
    if (version == 2) {
      const int vs = r.unionIndex();
      if (vs < 0) return false;
      if (vs == 1) {
        if (!r.span(s, n)) return false;
        out[VS_ID] = interner_.get(2, r.b + s, n);
        out[VS_POS] = s;
        out[VS_LEN] = n;
      }
      const int sq = r.unionIndex();
      if (sq < 0) return false;
      if (sq == 1) {
        if (r.pos >= r.end) return r.truncated();
        if (r.b[r.pos++] != 0) flags |= FLAG_SEQ_FIRST;
        if (!r.timestamp()) return false;
        fo[LOST_IDS] = r.value;
        if (!r.timestamp()) return false;
        fo[LOST_SINCE] = r.value;
        flags |= FLAG_SEQ;
      }
    }
    out[FLAGS] = flags;
    return true;
  }

  double v1_, v2_;
  Interner interner_;
  TickFold fold_;
  std::vector<double> sums_;
  ExactSum scratch_;
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  const uint16_t one = 1;
  uint8_t little;
  std::memcpy(&little, &one, 1);
  exports.Set("littleEndian", Napi::Boolean::New(env, little == 1));
  return Kernel::Init(env, exports);
}

}  // namespace

NODE_API_MODULE(tick_kernel, Init)
