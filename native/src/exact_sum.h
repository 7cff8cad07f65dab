// The native twins of src/aggregate/exact-sum.ts (Shewchuk's non-overlapping partials) and
// src/aggregate/binned-sum.ts (the fold's binned accumulator). Every operation is the TypeScript one, in the same
// order, on IEEE doubles (binding.gyp: -ffp-contract=off, no fast-math), so the partials that leave the fold are the
// TypeScript fold's, bit for bit: the TypeScript files explain why each step is exact.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

namespace tick_kernel {

using ExactSum = std::vector<double>;

// exactAdd: add x to the partials in place (Knuth's TwoSum against each partial, zero remainders dropped).
inline void exactAdd(ExactSum& p, double x) {
  size_t i = 0;
  const size_t n = p.size();
  for (size_t j = 0; j < n; j++) {
    const double y = p[j];
    const double hi = x + y;
    const double yv = hi - x;
    const double lo = (x - (hi - yv)) + (y - yv);
    if (lo != 0) p[i++] = lo;
    x = hi;
  }
  p.resize(i);
  p.push_back(x);
}

class BinnedSum {
 public:
  static constexpr int MIN_BIN = -30;
  static constexpr int MAX_BIN = 29;
  static constexpr uint32_t LIMIT = 1u << 20;

  void add(double x) {
    uint64_t bits;
    std::memcpy(&bits, &x, sizeof bits);
    const int biased = static_cast<int>((bits >> 52) & 0x7ff);
    const int top = floorDiv32(biased - 1023);
    if (count_ == 0) base_ = top - 3;
    const int d = top - base_;
    if (d < 2 || d > 4 || top < MIN_BIN + 1 || top > MAX_BIN || count_ >= LIMIT) return addSlow(x);
    const double c2 = round(top);
    const double c1 = round(top - 1);
    const double h2 = (x + c2) - c2;
    const double r = x - h2;
    const double h1 = (r + c1) - c1;
    const double r1 = r - h1;
    count_++;
    if (d == 3) {
      b3_ += h2;
      b2_ += h1;
      b1_ += r1;
    } else if (d == 2) {
      b2_ += h2;
      b1_ += h1;
      b0_ += r1;
    } else {
      b4_ += h2;
      b3_ += h1;
      b2_ += r1;
    }
  }

  // take(): the sum as exact partials, and start again from zero.
  void take(ExactSum& out) {
    drainBins();
    out.swap(spill_);
    spill_.clear();
  }

  void reset() {
    count_ = 0;
    b0_ = b1_ = b2_ = b3_ = b4_ = 0;
    spill_.clear();
  }

 private:
  // JavaScript's `>> 5` on an int32: floor division by 32.
  static int floorDiv32(int v) { return v >= 0 ? v / 32 : -((-v + 31) / 32); }

  // 1.5 · 2^(32j + 52): rounds |x| < 2^(32j + 51) to a multiple of 2^(32j).
  static double round(int j) {
    static const std::vector<double> table = [] {
      std::vector<double> t(MAX_BIN - MIN_BIN + 1);
      for (int i = 0; i < static_cast<int>(t.size()); i++) t[i] = std::ldexp(1.5, 32 * (i + MIN_BIN) + 52);
      return t;
    }();
    return table[j - MIN_BIN];
  }

  void addSlow(double x) {
    if (count_ >= LIMIT) drainBins();
    exactAdd(spill_, x);
  }

  void drainBins() {
    if (b0_ != 0) exactAdd(spill_, b0_);
    if (b1_ != 0) exactAdd(spill_, b1_);
    if (b2_ != 0) exactAdd(spill_, b2_);
    if (b3_ != 0) exactAdd(spill_, b3_);
    if (b4_ != 0) exactAdd(spill_, b4_);
    b0_ = b1_ = b2_ = b3_ = b4_ = 0;
    count_ = 0;
  }

  int base_ = 0;
  uint32_t count_ = 0;
  double b0_ = 0, b1_ = 0, b2_ = 0, b3_ = 0, b4_ = 0;
  ExactSum spill_;
};

}  // namespace tick_kernel
