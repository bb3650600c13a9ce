// The complete-tree kernel (see complete_kernels.h), written once over an
// `Ops` policy that supplies a vector of row bytes (Ops::kRows of them: 32
// or 64) and its operations. complete_kernel_<target>.cc includes this file inside an
// anonymous namespace, inside its target region (common/simd_target.h), so that every function here
// is compiled for that target and none can be mistaken for another target's
// copy at link time. For the same reason this file includes nothing: the
// including file includes <algorithm>, <cstdint>, <cstring>, <memory> and
// <vector> before its pragma.
//
// Ops:
//   static constexpr size_t kRows;             rows per vector: 32 or 64
//   using Vec = ...;                           kRows bytes, one per row
//   static Vec Load(const uint8_t* p);         p kRows-byte aligned
//   static void Store(uint8_t* p, Vec v);      p kRows-byte aligned
//   static Vec Zero();
//   static Vec Blend(Vec a, Vec b, Vec m);     per byte: m ? b : a (m 0x00 or 0xFF)
//   static Vec Step(Vec idx, Vec s);           per byte: 2 * idx + (s ? 1 : 0); idx < 128
//   static Vec Twice(Vec idx);                 per byte: 2 * idx; idx < 128
//   template <bool kNanRight>
//   static Vec Test(const float* col, float t);
//       per row r < kRows: 0xFF when col[r] goes right, i.e. not col[r] <= t,
//       NaN right when kNanRight and left otherwise; 0x00 when it goes left.
//   static void Rank(const float* col, const float* table, uint8_t* left, uint8_t* right);
//       for rows r < kRows: the number of table entries (kRankTableSize,
//       ascending) below col[r], as the keys RankTest reads: `left` with NaN
//       below every threshold, `right` with NaN above; kRows-byte aligned.
//   static Vec RankTest(const uint8_t* keys, uint32_t rank);
//       per row: 0xFF when the row's rank (key) is greater than `rank`.
//   static void Transpose8x8(const float* src, size_t src_stride, float* dst, size_t dst_stride);
//       dst[k * dst_stride + r] = src[r * src_stride + k] for r, k < 8;
//       dst 32-byte aligned.
// Optionally, a cascade on bits (unranked runs): a predicate's results for
// kBitTileRows rows are kBitTileRows / 8 bytes, bit r set when row r goes
// right, and each blend picks bits for all of them at once:
//   static constexpr size_t kBitTileRows;       a multiple of 64
//   template <bool kNanRight>
//   static uint64_t TestBits(const float* col, float t);   bit r: Test's byte r, r < 64
//   using BitRows = ...;                        kBitTileRows bits
//       static BitRows At(const uint8_t* ptab, uint16_t slot_offset);
//           the bits of the predicate whose slot is slot_offset / kCompleteTileRows
//       static BitRows Blend(BitRows a, const BitRows& b, const BitRows& m);   per bit: m ? b : a
//   template <int D, bool kTwice>
//   static void BitIndexes(const BitRows* s, uint8_t* out, size_t rows);
//       out[r] (r < rows <= kBitTileRows; it may write up to the next
//       multiple of 64) = the number whose bits, most significant first,
//       are bit r of s[0] .. s[D-1] (times 2 when kTwice); out 64-byte
//       aligned.
// Optionally, single sums in float32 by in-register lookups:
//   static size_t AddSingleFloat(const float* tabs, size_t nt, const uint8_t* idx, size_t stride,
//                                double* out, size_t m);
//       tabs: nt trees' leaf values as float32, kLeafTable each (zero
//       padded), 64-byte aligned; idx[t * stride + r]: tree t's leaf index
//       of row r. Adds the values of trees 0 .. nt - 1, in that order, in
//       float32, to out[r] for the first rows (a multiple of its block)
//       and returns how many; the rest are left to AddSingle.
// Optionally, pairs of double sums (two outputs, leaf_width 2) by in-register
// lookups, for chunks whose trees are all depth <= kPairLeafDepth:
//   static constexpr size_t kPairBlock;        rows it adds at a time
//   static size_t AddPairsDouble(const double* tabs, size_t nt, const uint8_t* idx, size_t stride,
//                                double* out, size_t m);
//       tabs: nt trees' leaf values, 2 * kPairLeaves each: output 0's of
//       kPairLeaves leaves, then output 1's (zero padded), 64-byte aligned;
//       idx[t * stride + r]: tree t's leaf index of row r (not doubled); out[2 * r + k]:
//       row r's sum k. Adds the values of trees 0 .. nt - 1, in that order, in
//       double, for the first rows (a multiple of its block) and returns how
//       many; the rest are left to AddPairs.

#define FB_INLINE inline __attribute__((always_inline))

// Trees whose leaf indexes are kept before their values are added.
constexpr size_t kChunkTrees = 16;

template <class Ops>
constexpr bool kBits = requires {
  Ops::kBitTileRows;
};

// Leaves per tree in AddSingleFloat's tables (a complete tree's most).
constexpr size_t kLeafTable = size_t{1} << kCompleteMaxDepth;

template <class Ops>
constexpr bool kFloatLookups = requires(const float* tabs, const uint8_t* idx, double* out) {
  Ops::AddSingleFloat(tabs, size_t{0}, idx, size_t{0}, out, size_t{0});
};

// Leaves per tree in AddPairsDouble's tables: depth <= 5.
constexpr int kPairLeafDepth = 5;
constexpr size_t kPairLeaves = size_t{1} << kPairLeafDepth;

template <class Ops>
constexpr bool kPairLookups = requires(const double* tabs, const uint8_t* idx, double* out) {
  Ops::AddPairsDouble(tabs, size_t{0}, idx, size_t{0}, out, size_t{0});
};

template <class Ops>
struct CompleteImpl {
  using Vec = typename Ops::Vec;
  static constexpr size_t kR = kCompleteTileRows;
  static constexpr size_t kV = Ops::kRows;
  // Vectors of kV rows that one pass of a tree's cascade carries at once.
  static constexpr int kN = 2;
  static constexpr size_t kPasses = kR / (kV * kN);
  // Floats from one tile column to the next: T rows and 16 more, so that
  // the columns do not all fall into the same few cache sets.
  static constexpr size_t ColStride(size_t t) { return t + 16; }
  static_assert(kR % (kV * kN) == 0);

  // The rows of one pass of the byte cascade: kN vectors of kV rows.
  struct Rows {
    Vec v[kN];
    static FB_INLINE Rows At(const uint8_t* ptab, uint16_t slot_offset) {
      Rows r;
      for (int i = 0; i < kN; ++i) r.v[i] = Ops::Load(ptab + slot_offset + kV * i);
      return r;
    }
    static FB_INLINE Rows Blend(Rows a, const Rows& b, const Rows& m) {
      for (int i = 0; i < kN; ++i) a.v[i] = Ops::Blend(a.v[i], b.v[i], m.v[i]);
      return a;
    }
  };

  // The bytes of the level-K node that each row's path bits s[0] (most
  // significant) .. s[K-1] pick among the 2^K nodes at breadth-first
  // positions First + i * Stride. The last bit, s[K-1], is the previous
  // level's result: using it only in the final blend keeps the chain from
  // one level to the next one blend long.
  // R: Rows, or Ops::BitRows.
  template <class R, int K, int First, int Stride>
  static FB_INLINE R Mux(const uint8_t* ptab, const uint16_t* slots, const R* s) {
    if constexpr (K == 0) {
      return R::At(ptab, slots[First]);
    } else {
      const R a = Mux<R, K - 1, First, 2 * Stride>(ptab, slots, s);
      const R b = Mux<R, K - 1, First + Stride, 2 * Stride>(ptab, slots, s);
      return R::Blend(a, b, s[K - 1]);
    }
  }

  // Ranked trees: a node's bytes are made from its column's rank keys.
  template <int K, int First, int Stride>
  static FB_INLINE Rows MuxRanked(const uint8_t* keys, const uint16_t* slots, const uint8_t* ranks,
                                  const Rows* s) {
    if constexpr (K == 0) {
      Rows r;
      for (int i = 0; i < kN; ++i) r.v[i] = Ops::RankTest(keys + slots[First] + kV * i, ranks[First]);
      return r;
    } else {
      const Rows a = MuxRanked<K - 1, First, 2 * Stride>(keys, slots, ranks, s);
      const Rows b = MuxRanked<K - 1, First + Stride, 2 * Stride>(keys, slots, ranks, s);
      return Rows::Blend(a, b, s[K - 1]);
    }
  }

  // ranks == nullptr: ptab is the predicate table; else the rank keys.
  template <class R, int L, int D, bool kRanked>
  static FB_INLINE void Levels(const uint8_t* ptab, const uint16_t* slots, const uint8_t* ranks, R* s) {
    if constexpr (L < D) {
      if constexpr (kRanked) {
        s[L] = MuxRanked<L, (1 << L) - 1, 1>(ptab, slots, ranks, s);
      } else {
        s[L] = Mux<R, L, (1 << L) - 1, 1>(ptab, slots, s);
      }
      Levels<R, L + 1, D, kRanked>(ptab, slots, ranks, s);
    }
  }

  // Leaf index (times 2 when kTwice) of kN * kV rows in one depth-D tree.
  template <int D, bool kTwice, bool kRanked>
  static FB_INLINE void Cascade(const uint8_t* ptab, const uint16_t* slots, const uint8_t* ranks,
                                uint8_t* out) {
    Rows idx;
    for (int i = 0; i < kN; ++i) idx.v[i] = Ops::Zero();
    if constexpr (D > 0) {
      Rows s[D];
      Levels<Rows, 0, D, kRanked>(ptab, slots, ranks, s);
      for (int l = 0; l < D; ++l)
        for (int i = 0; i < kN; ++i) idx.v[i] = Ops::Step(idx.v[i], s[l].v[i]);
      if constexpr (kTwice)
        for (int i = 0; i < kN; ++i) idx.v[i] = Ops::Twice(idx.v[i]);
    }
    for (int i = 0; i < kN; ++i) Ops::Store(out + kV * i, idx.v[i]);
  }

  // The same for kBitTileRows rows from the bits (Ops::BitRows).
  template <int D, bool kTwice>
  static FB_INLINE void CascadeBits(const uint8_t* ptab, const uint16_t* slots, uint8_t* out, size_t rows) {
    using R = typename Ops::BitRows;
    R s[D > 0 ? D : 1];
    Levels<R, 0, D, false>(ptab, slots, nullptr, s);
    Ops::template BitIndexes<D, kTwice>(s, out, rows);
  }

  template <bool kTwice>
  static void TreeIndexesBits(int depth, const uint8_t* ptab, const uint16_t* slots, uint8_t* out,
                              size_t rows) {
    switch (depth) {
      case 0: CascadeBits<0, kTwice>(ptab, slots, out, rows); break;
      case 1: CascadeBits<1, kTwice>(ptab, slots, out, rows); break;
      case 2: CascadeBits<2, kTwice>(ptab, slots, out, rows); break;
      case 3: CascadeBits<3, kTwice>(ptab, slots, out, rows); break;
      case 4: CascadeBits<4, kTwice>(ptab, slots, out, rows); break;
      case 5: CascadeBits<5, kTwice>(ptab, slots, out, rows); break;
      default: CascadeBits<6, kTwice>(ptab, slots, out, rows); break;
    }
  }

  template <bool kTwice, bool kRanked>
  static void TreeIndexes(int depth, const uint8_t* ptab, const uint16_t* slots, const uint8_t* ranks,
                          uint8_t* out) {
    for (size_t p = 0; p < kPasses; ++p) {
      const size_t o = p * kV * kN;
      switch (depth) {
        case 0: Cascade<0, kTwice, kRanked>(ptab + o, slots, ranks, out + o); break;
        case 1: Cascade<1, kTwice, kRanked>(ptab + o, slots, ranks, out + o); break;
        case 2: Cascade<2, kTwice, kRanked>(ptab + o, slots, ranks, out + o); break;
        case 3: Cascade<3, kTwice, kRanked>(ptab + o, slots, ranks, out + o); break;
        case 4: Cascade<4, kTwice, kRanked>(ptab + o, slots, ranks, out + o); break;
        case 5: Cascade<5, kTwice, kRanked>(ptab + o, slots, ranks, out + o); break;
        default: Cascade<6, kTwice, kRanked>(ptab + o, slots, ranks, out + o); break;
      }
    }
  }

  // Predicate bytes of one group: slot p + 1 from preds[p]; kBitMode: T
  // bits a slot (T / 8 bytes), from tiles of T rows, of which the 64-bit
  // words past the first `rows` are 0 (a tile's last rows are not tested).
  template <size_t T, bool kBitMode>
  static void EvalGroup(const CompletePredicate* preds, uint32_t count, uint32_t nan_right, const float* tile,
                        uint8_t* ptab, size_t rows) {
    const size_t words = (rows + 63) / 64;
    for (uint32_t p = 0; p < count; ++p) {
      const float* col = tile + static_cast<size_t>(preds[p].column) * ColStride(T);
      const float t = preds[p].threshold;
      if constexpr (kBitMode) {
        uint64_t w[T / 64];
        for (size_t h = 0; h < words; ++h)
          w[h] = p < nan_right ? Ops::template TestBits<true>(col + 64 * h, t)
                               : Ops::template TestBits<false>(col + 64 * h, t);
        for (size_t h = words; h < T / 64; ++h) w[h] = 0;
        std::memcpy(ptab + (p + 1) * (T / 8), w, sizeof(w));
        continue;
      }
      uint8_t* dst = ptab + (p + 1) * kR;
      if (p < nan_right) {
        for (size_t h = 0; h < kR; h += kV) Ops::Store(dst + h, Ops::template Test<true>(col + h, t));
      } else {
        for (size_t h = 0; h < kR; h += kV) Ops::Store(dst + h, Ops::template Test<false>(col + h, t));
      }
    }
  }

  static void RankTile(const CompleteRun& cr, const float* tile, uint8_t* ranks) {
    for (size_t c = 0; c < cr.features.size(); ++c) {
      const float* table = cr.rank_thresholds.data() + c * kRankTableSize;
      for (size_t h = 0; h < kR; h += kV)
        Ops::Rank(tile + c * ColStride(kR) + h, table, ranks + c * 2 * kR + h, ranks + c * 2 * kR + kR + h);
    }
  }

  // Rows [r, r + B) of a dense run's features into tile columns with
  // stride S: the first c8 features by 8 x 8 transposes, the rest one by one.
  template <size_t B, size_t S>
  static FB_INLINE void TransposeRows(const float* __restrict x, size_t nf, size_t r, size_t c8,
                                      const CompleteRun& cr, float* __restrict tile) {
    const uint32_t* __restrict features = cr.features.data();
    const float* src = x + features[0];
    for (size_t c = 0; c < c8; c += 8)
      for (size_t i = r; i < r + B; i += 8) Ops::Transpose8x8(src + i * nf + c, nf, tile + c * S + i, S);
    for (size_t k = c8; k < cr.features.size(); ++k)
      for (size_t i = r; i < r + B; ++i) tile[k * S + i] = x[i * nf + features[k]];
  }

  // Copies rows [0, m) of x's `features` into tile columns (column c of row
  // r at tile[c * ColStride(T) + r]); rows m .. end - 1 become 0. A dense
  // run's features are consecutive: blocks of 8 rows x 8 features go
  // through Ops::Transpose8x8, 16 rows at a time through every feature (the
  // rows are read while in L1, each column gets whole 64-byte lines, and the
  // padded stride keeps the columns' lines from evicting each other):
  // measured 10 % faster for the seed kernel than a column at a time.
  template <size_t T>
  static void Transpose(const float* __restrict x, size_t nf, size_t m, size_t end, const CompleteRun& cr,
                        float* __restrict tile) {
    constexpr size_t S = ColStride(T);
    const uint32_t* __restrict features = cr.features.data();
    const size_t ncol = cr.features.size(), full = cr.dense ? m - m % 8 : 0, c8 = ncol - ncol % 8;
    size_t r = 0;
    for (; r + 16 <= full; r += 16) TransposeRows<16, S>(x, nf, r, c8, cr, tile);
    for (; r < full; r += 8) TransposeRows<8, S>(x, nf, r, c8, cr, tile);
    for (; r < m; ++r) {
      const float* row = x + r * nf;
      for (size_t k = 0; k < ncol; ++k) tile[k * S + r] = row[features[k]];
    }
    for (size_t k = 0; k < ncol; ++k)
      for (size_t i = m; i < end; ++i) tile[k * S + i] = 0.0f;
  }

  // out row r (r < m, n_outputs == 1, leaf_width 1) += values of trees
  // [0, nt) at idx[t * T + r], each addition in A: double, or float for
  // float32 sums (the sums and values are then float32 values, so the
  // conversions are exact). V: the values' type (float: label margins'
  // tables).
  template <typename A, size_t T, typename V>
  static void AddSingle(const V* const* vals, size_t nt, const uint8_t* idx, double* out, size_t m) {
    size_t r = 0;
    for (; r + 8 <= m; r += 8) {
      A a[8];
      for (int j = 0; j < 8; ++j) a[j] = static_cast<A>(out[r + j]);
      for (size_t t = 0; t < nt; ++t) {
        const V* v = vals[t];
        uint64_t ix;  // eight leaf indexes in one load
        std::memcpy(&ix, idx + t * T + r, 8);
        for (int j = 0; j < 8; ++j) a[j] += static_cast<A>(v[(ix >> (8 * j)) & 0xFF]);
      }
      for (int j = 0; j < 8; ++j) out[r + j] = static_cast<double>(a[j]);
    }
    for (; r < m; ++r) {
      A a = static_cast<A>(out[r]);
      for (size_t t = 0; t < nt; ++t) a += static_cast<A>(vals[t][idx[t * T + r]]);
      out[r] = static_cast<double>(a);
    }
  }

  // leaf_width 2 == n_outputs: idx holds twice the leaf index (kScale 1),
  // or the leaf index (kScale 2: chunks that PairLookups takes). Eight rows
  // at a time, each a pair of sums in one register (16 bytes of doubles, or
  // 8 of floats for A = float): eight independent chains of additions hide
  // their latency.
  template <typename A, size_t T, size_t kScale = 1>
  static void AddPairs(const double* const* vals, size_t nt, const uint8_t* idx, double* out, size_t m) {
    typedef A Pair __attribute__((vector_size(2 * sizeof(A))));
    auto load = [](const double* p) {
      Pair v;
      v[0] = static_cast<A>(p[0]);
      v[1] = static_cast<A>(p[1]);
      return v;
    };
    size_t r = 0;
    for (; r + 8 <= m; r += 8) {
      Pair a[8];
      for (int j = 0; j < 8; ++j) a[j] = load(out + 2 * (r + j));
      for (size_t t = 0; t < nt; ++t) {
        const double* v = vals[t];
        uint64_t ix;  // eight leaf offsets in one load
        std::memcpy(&ix, idx + t * T + r, 8);
        // Two bytes per shift, read as the low two byte registers: fewer
        // instructions than a shift of the whole word per byte, which the
        // empty asm keeps the compiler from going back to (16 rows per
        // pass measured slower).
        for (int j = 0; j < 8; j += 2) {
          a[j] += load(v + kScale * (ix & 0xFF));
          a[j + 1] += load(v + kScale * ((ix >> 8) & 0xFF));
          ix >>= 16;
          asm("" : "+r"(ix));
        }
      }
      for (int j = 0; j < 8; ++j) {
        out[2 * (r + j)] = static_cast<double>(a[j][0]);
        out[2 * (r + j) + 1] = static_cast<double>(a[j][1]);
      }
    }
    for (; r < m; ++r) {
      A a0 = static_cast<A>(out[2 * r]), a1 = static_cast<A>(out[2 * r + 1]);
      for (size_t t = 0; t < nt; ++t) {
        const double* v = vals[t] + kScale * idx[t * T + r];
        a0 += static_cast<A>(v[0]);
        a1 += static_cast<A>(v[1]);
      }
      out[2 * r] = static_cast<double>(a0);
      out[2 * r + 1] = static_cast<double>(a1);
    }
  }

  // Any other shape: leaf_width 1 into output `outputs[t]`, or leaf_width
  // == n_outputs values; each addition in A, as above.
  template <typename A, size_t T>
  static void AddGeneral(const double* const* vals, const int32_t* outputs, size_t nt, const uint8_t* idx,
                         double* out, size_t m, size_t no, size_t w) {
    for (size_t r = 0; r < m; ++r) {
      double* o = out + r * no;
      for (size_t t = 0; t < nt; ++t) {
        const double* v = vals[t] + static_cast<size_t>(idx[t * T + r]) * w;
        if (w == 1) {
          o[outputs[t]] = static_cast<double>(static_cast<A>(o[outputs[t]]) + static_cast<A>(v[0]));
        } else {
          for (size_t k = 0; k < w; ++k)
            o[k] = static_cast<double>(static_cast<A>(o[k]) + static_cast<A>(v[k]));
        }
      }
    }
  }

  // Single float32 sums by Ops::AddSingleFloat: the chunk's leaf values
  // as float32 (exact: float32 sums have float32 leaves), zero padded.
  template <size_t T>
  static size_t AddSingleFloatTables(const double* const* vals, const int32_t* depths, size_t nt,
                                     const uint8_t* idx, double* out, size_t m) {
    alignas(64) float tabs[kChunkTrees * kLeafTable];
    for (size_t t = 0; t < nt; ++t) {
      const size_t leaves = size_t{1} << depths[t];
      float* tab = tabs + t * kLeafTable;
      for (size_t i = 0; i < leaves; ++i) tab[i] = static_cast<float>(vals[t][i]);
      for (size_t i = leaves; i < kLeafTable; ++i) tab[i] = 0.0f;
    }
    return Ops::AddSingleFloat(tabs, nt, idx, T, out, m);
  }

  // Label margins (complete_kernels.h): float32 tables, kLeafTable floats a
  // tree, looked up by idx, one double per row of out: single float32 sums,
  // Ops::AddSingleFloat's blocks first where it exists, AddSingle the rest.
  template <size_t T>
  static void AddMargins(const float* tabs, size_t nt, const uint8_t* idx, double* out, size_t m) {
    size_t done = 0;
    if constexpr (kFloatLookups<Ops>) done = Ops::AddSingleFloat(tabs, nt, idx, T, out, m);
    const float* vals[kChunkTrees];
    for (size_t t = 0; t < nt; ++t) vals[t] = tabs + t * kLeafTable;
    AddSingle<float, T>(vals, nt, idx + done, out + done, m - done);
  }

  // Whether the chunk's nt trees from c add their pairs of double sums by
  // Ops::AddPairsDouble: every tree has at most kPairLeaves leaves and
  // there is at least a block of rows. Their leaf indexes are then not
  // doubled.
  static bool PairLookups(const CompiledForest& cf, uint32_t c, size_t nt, size_t m) {
    if constexpr (kPairLookups<Ops>) {
      if (m < Ops::kPairBlock) return false;
      for (size_t t = 0; t < nt; ++t)
        if (cf.complete_trees[c + t].depth > kPairLeafDepth) return false;
      return true;
    }
    return false;
  }

  // Pairs of double sums by Ops::AddPairsDouble (PairLookups): each tree's
  // leaf values by output, zero padded. Returns the rows done.
  template <size_t T>
  static size_t AddPairsDoubleTables(const double* const* vals, const int32_t* depths, size_t nt,
                                     const uint8_t* idx, double* out, size_t m) {
    alignas(64) double tabs[kChunkTrees * 2 * kPairLeaves];
    for (size_t t = 0; t < nt; ++t) {
      const size_t leaves = size_t{1} << depths[t];
      double* tab = tabs + t * 2 * kPairLeaves;
      for (size_t i = 0; i < leaves; ++i) {
        tab[i] = vals[t][2 * i];
        tab[kPairLeaves + i] = vals[t][2 * i + 1];
      }
      for (size_t i = leaves; i < kPairLeaves; ++i) tab[i] = tab[kPairLeaves + i] = 0.0;
    }
    return Ops::AddPairsDouble(tabs, nt, idx, T, out, m);
  }

  // Rows through tiles of T rows: kBitMode, predicates as T bits (unranked
  // runs, Ops with a bit cascade); else bytes, T == kR.
  template <size_t T, bool kBitMode>
  static void RunTiles(const CompiledForest& cf, const CompleteRun& cr, const float* x, size_t n, double* out,
                       const float* margins) {
    static_assert(kBitMode || T == kR);
    const size_t nf = static_cast<size_t>(cf.n_features), no = static_cast<size_t>(cf.n_outputs);
    const size_t w = static_cast<size_t>(cf.leaf_width);
    const size_t ncol = cr.features.size();
    const bool pairs = w == 2 && no == 2, single = w == 1 && no == 1, f32 = cf.float32_sums;
    // One buffer: predicate table, leaf indexes, tile, ranks; 64-byte aligned.
    const size_t ptab_bytes = kGroupSlots * (kBitMode ? T / 8 : kR), idx_bytes = kChunkTrees * T;
    const size_t tile_bytes = ncol * ColStride(T) * 4;
    // Not value-initialised: every byte is written before it is read (the
    // predicate slots by EvalGroup, rank keys by RankTile, leaf indexes by
    // the cascade, the whole tile by Transpose) but slot 0's.
    std::unique_ptr<uint8_t[]> buf(
        new uint8_t[64 + ptab_bytes + idx_bytes + tile_bytes + (cr.ranked ? ncol * 2 * kR : 0)]);
    uint8_t* base = buf.get() + (64 - reinterpret_cast<uintptr_t>(buf.get()) % 64) % 64;
    uint8_t* ptab = base;  // slot 0: always left
    std::memset(ptab, 0, kBitMode ? T / 8 : kR);
    uint8_t* idx = ptab + ptab_bytes;
    float* tile = reinterpret_cast<float*>(idx + idx_bytes);
    uint8_t* ranks = idx + idx_bytes + tile_bytes;
    const double* vals[kChunkTrees];
    int32_t outputs[kChunkTrees];
    int32_t depths[kChunkTrees];

    for (size_t s = 0; s < n; s += T) {
      const size_t m = std::min(T, n - s);
      // Bit tiles test 64 rows at a time: a last tile's rows past the next
      // multiple of 64 are never read.
      Transpose<T>(x + s * nf, nf, m, kBitMode ? std::min(T, (m + 63) / 64 * 64) : T, cr, tile);
      double* o = out + s * (margins ? 1 : no);
      // Ranked: column c's keys at ranks + c * 2 * kR (NaN left, then right).
      if constexpr (!kBitMode)
        if (cr.ranked) RankTile(cr, tile, ranks);
      for (uint32_t g = cr.group_begin; g < cr.group_end; ++g) {
        const PredicateGroup& grp = cf.complete_groups[g];
        if (!cr.ranked)
          EvalGroup<T, kBitMode>(cf.complete_preds.data() + grp.pred_begin, grp.pred_count, grp.nan_right,
                                 tile, ptab, m);
        for (uint32_t c = grp.tree_begin; c < grp.tree_end; c += kChunkTrees) {
          const size_t nt = std::min<size_t>(kChunkTrees, grp.tree_end - c);
          // Label margins look their tables up by the leaf index itself.
          const bool lookups = pairs && !f32 && !margins && PairLookups(cf, c, nt, m);
          const bool twice = pairs && !lookups && !margins;
          for (size_t t = 0; t < nt; ++t) {
            const CompleteTree& ct = cf.complete_trees[c + t];
            const uint16_t* slots = cf.complete_slots.data() + ct.slot_begin;
            if constexpr (kBitMode) {
              if (twice) {
                TreeIndexesBits<true>(ct.depth, ptab, slots, idx + t * T, m);
              } else {
                TreeIndexesBits<false>(ct.depth, ptab, slots, idx + t * T, m);
              }
            } else if (cr.ranked) {
              const uint8_t* tr = cf.complete_ranks.data() + ct.slot_begin;
              if (twice) {
                TreeIndexes<true, true>(ct.depth, ranks, slots, tr, idx + t * kR);
              } else {
                TreeIndexes<false, true>(ct.depth, ranks, slots, tr, idx + t * kR);
              }
            } else if (twice) {
              TreeIndexes<true, false>(ct.depth, ptab, slots, nullptr, idx + t * kR);
            } else {
              TreeIndexes<false, false>(ct.depth, ptab, slots, nullptr, idx + t * kR);
            }
            vals[t] = cf.complete_values.data() + ct.value_begin;
            outputs[t] = ct.output;
            depths[t] = ct.depth;
          }
          if (margins) {
            AddMargins<T>(margins + static_cast<size_t>(c) * kLeafTable, nt, idx, o, m);
          } else if (f32) {
            if (pairs) {
              AddPairs<float, T>(vals, nt, idx, o, m);
            } else if (single) {
              size_t done = 0;
              if constexpr (kFloatLookups<Ops>) done = AddSingleFloatTables<T>(vals, depths, nt, idx, o, m);
              AddSingle<float, T>(vals, nt, idx + done, o + done, m - done);
            } else {
              AddGeneral<float, T>(vals, outputs, nt, idx, o, m, no, w);
            }
          } else if (lookups) {
            // The rows past the last block: leaf indexes not doubled.
            size_t done = 0;
            if constexpr (kPairLookups<Ops>) done = AddPairsDoubleTables<T>(vals, depths, nt, idx, o, m);
            AddPairs<double, T, 2>(vals, nt, idx + done, o + 2 * done, m - done);
          } else if (pairs) {
            AddPairs<double, T>(vals, nt, idx, o, m);
          } else if (single) {
            AddSingle<double, T>(vals, nt, idx, o, m);
          } else {
            AddGeneral<double, T>(vals, outputs, nt, idx, o, m, no, w);
          }
        }
      }
    }
  }

  static void Run(const CompiledForest& cf, const TreeRun& run, const float* x, size_t n, double* out,
                  const float* margins) {
    const CompleteRun& cr = cf.complete_runs[run.first];
    if constexpr (kBits<Ops>) {
      if (!cr.ranked) return RunTiles<Ops::kBitTileRows, true>(cf, cr, x, n, out, margins);
    }
    RunTiles<kR, false>(cf, cr, x, n, out, margins);
  }
};

#undef FB_INLINE
