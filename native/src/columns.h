// The columns the decoder fills, one row per record (must match src/runtime/native-kernel.ts): what the fold
// (tick_fold.h) and the TypeScript cursor (NativeCursor) read.
#pragma once

#include <cstdint>

namespace tick_kernel {

// Column layout, per record (must match src/runtime/native-kernel.ts).
constexpr int I32_STRIDE = 13;
constexpr int F64_STRIDE = 6;
enum I32Col { STATUS, VENUE_ID, VENUE_POS, VENUE_LEN, SYMBOL_ID, SYMBOL_POS, SYMBOL_LEN, ID_POS, ID_LEN, VS_ID, VS_POS, VS_LEN, FLAGS };
enum F64Col { EVENT_TIME, PRICE, SIZE, INGEST_TIME, LOST_IDS, LOST_SINCE };
// FLAGS: bits 0-1 side index, bit 2 trade id left as bytes (1-128 ASCII bytes), bit 3 has a sequence, bit 4 sequence.first.
constexpr int32_t FLAG_ID_LAZY = 4, FLAG_SEQ = 8, FLAG_SEQ_FIRST = 16;
constexpr int32_t VS_NULL = -2;     // venueSymbol is null
constexpr int32_t NOT_INTERNED = -1;  // build the string from its bytes

}  // namespace tick_kernel
