// CPU passes (at::parallel_for over batch x pixel chunks) and the device dispatch.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SD_X86_SIMD 1
#include <immintrin.h>
#else
#define SD_X86_SIMD 0
#endif

#include "ops/proto_kernels.h"

namespace sd::ops {
namespace {

constexpr int64_t kChunk = 8192;  // pixels per task: large enough to amortise, small enough to balance
constexpr uint8_t kSkip = 255;    // the compact label of a pixel that counts for no class
// Accumulator copies of the vector pass, taken pixel by pixel in turn: consecutive pixels of
// one class add to different rows, so no add waits on the store of the one before.
constexpr int kReps = 8;

// A label that is neither a class nor ignore_index: refused, its first one named.
inline bool IsBadLabel(int64_t l, int64_t K, int64_t ignore) { return (l < 0 || l >= K) && l != ignore; }

// f(std::integral_constant<int, C>) for the C of Cs equal to CH, else f(integral_constant<0>):
// kernels with the channel count fixed at compile time (its sums held in registers).
template <int... Cs, typename F>
void WithChannels(int64_t CH, F&& f) {
  const bool fixed = ((CH == Cs ? (f(std::integral_constant<int, Cs>{}), true) : false) || ...);
  if (!fixed) f(std::integral_constant<int, 0>{});
}

template <typename F, int... Cs>
void WithChannelsUpTo(int64_t CH, F&& f, std::integer_sequence<int, Cs...>) {
  WithChannels<(Cs + 1)...>(CH, std::forward<F>(f));
}

[[noreturn]] void NoCuda() {
  throw std::invalid_argument("logits: on CUDA, but this build of slice-distill has no CUDA kernels");
}

// One chunk's pixels [start, stop) of sample b, summed into acc [K, CH] and n [K]. Labels come
// in runs (organs are contiguous), so a run of one class is summed in registers and added to
// its row once: no store-to-load chain on the row from pixel to pixel. CHT > 0 fixes the
// channel count at compile time (the registers); 0 takes CH at run time.
template <int CHT, typename T>
void SumChunk(const T* xb, const int64_t* yb, int64_t CH_, int64_t N, int64_t K, int64_t ignore, int64_t start,
              int64_t stop, double* acc, int64_t* n, uint8_t* cb, char& has_bad, int64_t& bad) {
  const int64_t CH = CHT > 0 ? CHT : CH_;
  constexpr int kMax = CHT > 0 ? CHT : 1;
  double run[kMax];
  int64_t cur = -1, run_n = 0;
  auto flush = [&] {
    if (cur < 0) return;
    double* row = acc + cur * CH;
    for (int c = 0; c < kMax; c++) row[c] += run[c];
    n[cur] += run_n;
  };
  for (int64_t i = start; i < stop; i++) {
    const int64_t l = yb[i];
    if (l < 0 || l >= K || l == ignore) {
      if (IsBadLabel(l, K, ignore) && !has_bad) has_bad = 1, bad = l;  // validated here, for free
      cb[i] = kSkip;
      continue;
    }
    cb[i] = static_cast<uint8_t>(l);
    if constexpr (CHT == 0) {
      n[l]++;
      double* row = acc + l * CH;
      for (int64_t c = 0; c < CH; c++) row[c] += static_cast<double>(xb[c * N + i]);
    } else {
      if (l != cur) {
        flush();
        cur = l;
        run_n = 0;
        for (int c = 0; c < kMax; c++) run[c] = 0;
      }
      run_n++;
      for (int c = 0; c < kMax; c++) run[c] += static_cast<double>(xb[c * N + i]);
    }
  }
  if constexpr (CHT > 0) flush();
}

#if SD_X86_SIMD
// The vector pass adds into float32 copies and moves them to the float64 ones every kFlush
// groups of 8 pixels (kFlush pixels per copy): float32 adds for speed, float64 sums in the end.
constexpr int64_t kFlush = 64;
// The vector pass takes up to kMaxVectorChannels channels, a class row padded to whole vectors.
constexpr int kMaxVectorChannels = 16;
constexpr int64_t RowWidth(int64_t CH) { return (CH + 7) / 8 * 8; }

int64_t FirstBad(const int64_t* yb, int64_t K, int64_t ignore, int64_t start, int64_t stop) {
  for (int64_t i = start; i < stop; i++) {
    if (IsBadLabel(yb[i], K, ignore)) return yb[i];
  }
  return 0;
}

// The accumulator copies of one task: pixel i adds to copy i % kReps, row K for a skipped pixel.
struct Copies {
  int64_t K1, CW;
  std::vector<float> f;    // [kReps, K1, CW], the float32 partials
  std::vector<double> d;   // [kReps, K1, CW]
  std::vector<int64_t> n;  // [kReps, K1]
  Copies(int64_t K, int64_t CW) : K1(K + 1), CW(CW), f(kReps * K1 * CW), d(f.size()), n(kReps * K1) {}
  void Clear() {  // f is zero already: every pass ends with Flush
    std::fill(d.begin(), d.end(), 0.0);
    std::fill(n.begin(), n.end(), 0);
  }
  __attribute__((target("avx2"))) void Flush() {
    for (size_t j = 0; j < f.size(); j += 4)
      _mm256_storeu_pd(d.data() + j,
                       _mm256_add_pd(_mm256_loadu_pd(d.data() + j), _mm256_cvtps_pd(_mm_loadu_ps(f.data() + j))));
    std::fill(f.begin(), f.end(), 0.0f);
  }
};

// Labels of pixels i .. i + 7 (int64) to their rows p * K1 + k in copy p (k = K where skipped)
// and their compact labels, all in vector registers: no branch on the label.
struct LabelVectors {
  __m256i zero = _mm256_setzero_si256(), last, ignore, skipRow64, skipRow32, copyBase, bad = _mm256_setzero_si256();
  __attribute__((target("avx2"))) LabelVectors(int64_t K, int64_t ignore_index)
      : last(_mm256_set1_epi64x(K - 1)),
        ignore(_mm256_set1_epi64x(ignore_index)),
        skipRow64(_mm256_set1_epi64x(K)),
        skipRow32(_mm256_set1_epi32(static_cast<int>(K))) {
    const int K1 = static_cast<int>(K + 1);
    copyBase = _mm256_setr_epi32(0, K1, 2 * K1, 3 * K1, 4 * K1, 5 * K1, 6 * K1, 7 * K1);
  }
  __attribute__((target("avx2"))) __m256i Class4(__m256i l) {  // 4 labels to k, as int64
    const __m256i out = _mm256_or_si256(_mm256_cmpgt_epi64(zero, l), _mm256_cmpgt_epi64(l, last));
    const __m256i ig = _mm256_cmpeq_epi64(l, ignore);
    bad = _mm256_or_si256(bad, _mm256_andnot_si256(ig, out));
    return _mm256_blendv_epi8(l, skipRow64, _mm256_or_si256(out, ig));
  }
  __attribute__((target("avx2"))) void Rows(const int64_t* y, uint8_t* compact, int32_t* rows) {
    const __m256i low = _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6);  // the low halves of the int64 lanes
    const __m256i k0 =
        _mm256_permutevar8x32_epi32(Class4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(y))), low);
    const __m256i k1 =
        _mm256_permutevar8x32_epi32(Class4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(y + 4))), low);
    const __m256i k = _mm256_permute2x128_si256(k0, k1, 0x20);
    const __m256i c = _mm256_blendv_epi8(k, _mm256_set1_epi32(kSkip), _mm256_cmpeq_epi32(k, skipRow32));
    const __m128i c16 = _mm_packus_epi32(_mm256_castsi256_si128(c), _mm256_extracti128_si256(c, 1));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(compact), _mm_packus_epi16(c16, c16));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(rows), _mm256_add_epi32(k, copyBase));
  }
  __attribute__((target("avx2"))) bool AnyBad() const { return !_mm256_testz_si256(bad, bad); }
};

// float logits, CH channels (fixed at compile time): pixels [start, stop) of one sample
// (start % 8 == 0) into the copies. 8 pixels at a time, their channels transposed to one vector
// per pixel and added to the pixel's class row (random labels change class every other pixel,
// which made a run-length branch mispredict half the time). Where CH leaves a lane free in the
// row, that lane adds 1 per pixel: the count, exact in float32 for kFlush pixels. Returns
// whether a label was out of range.
template <int CH>
__attribute__((target("avx2"))) bool SumPixelsAvx2(const float* xb, const int64_t* yb, int64_t N, int64_t K,
                                                   int64_t ignore, int64_t start, int64_t stop, Copies& acc,
                                                   uint8_t* cb) {
  constexpr int64_t CW = RowWidth(CH);
  constexpr int G = CW / 8;
  constexpr bool kCountLane = CH < CW;
  LabelVectors labels(K, ignore);
  alignas(32) int32_t rows[8];
  int64_t i = start, groups = 0;
  for (; i + 8 <= stop; i += 8) {
    labels.Rows(yb + i, cb + i, rows);
    for (int g = 0; g < G; g++) {
      __m256 v[8];
      for (int c = 0; c < 8; c++) {
        const int ch = g * 8 + c;
        v[c] = ch < CH ? _mm256_loadu_ps(xb + ch * N + i)
                       : (kCountLane && ch == CH ? _mm256_set1_ps(1.0f) : _mm256_setzero_ps());
      }
      __m256 t0 = _mm256_unpacklo_ps(v[0], v[1]), t1 = _mm256_unpackhi_ps(v[0], v[1]);
      __m256 t2 = _mm256_unpacklo_ps(v[2], v[3]), t3 = _mm256_unpackhi_ps(v[2], v[3]);
      __m256 t4 = _mm256_unpacklo_ps(v[4], v[5]), t5 = _mm256_unpackhi_ps(v[4], v[5]);
      __m256 t6 = _mm256_unpacklo_ps(v[6], v[7]), t7 = _mm256_unpackhi_ps(v[6], v[7]);
      __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
      __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
      __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
      __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
      __m256 px[8] = {_mm256_permute2f128_ps(u0, u4, 0x20), _mm256_permute2f128_ps(u1, u5, 0x20),
                      _mm256_permute2f128_ps(u2, u6, 0x20), _mm256_permute2f128_ps(u3, u7, 0x20),
                      _mm256_permute2f128_ps(u0, u4, 0x31), _mm256_permute2f128_ps(u1, u5, 0x31),
                      _mm256_permute2f128_ps(u2, u6, 0x31), _mm256_permute2f128_ps(u3, u7, 0x31)};
      float* f = acc.f.data() + g * 8;
      for (int p = 0; p < 8; p++) {
        float* row = f + rows[p] * CW;
        _mm256_storeu_ps(row, _mm256_add_ps(_mm256_loadu_ps(row), px[p]));
      }
    }
    if constexpr (!kCountLane) {
      for (int p = 0; p < 8; p++) acc.n[rows[p]]++;
    }
    if (++groups == kFlush) acc.Flush(), groups = 0;
  }
  acc.Flush();
  bool bad = labels.AnyBad();
  for (; i < stop; i++) {  // the last pixels of the sample, one by one into the float64 copies
    const int64_t l = yb[i];
    const bool ok = l >= 0 && l < K && l != ignore;
    bad |= IsBadLabel(l, K, ignore);
    cb[i] = ok ? static_cast<uint8_t>(l) : kSkip;
    const int64_t row = (i % kReps) * acc.K1 + (ok ? l : K);
    for (int64_t c = 0; c < CH; c++) acc.d[row * CW + c] += static_cast<double>(xb[c * N + i]);
    if constexpr (kCountLane)
      acc.d[row * CW + CH] += 1;
    else
      acc.n[row]++;
  }
  if constexpr (kCountLane) {  // the counts out of their lane
    for (int64_t r = 0; r < kReps * acc.K1; r++) acc.n[r] = static_cast<int64_t>(acc.d[r * CW + CH]);
  }
  return bad;
}

bool HasAvx2() {
  static const bool has = __builtin_cpu_supports("avx2");
  return has;
}
#endif

// Per chunk: sums over its pixels, all channels at once per pixel (float logits on AVX2: the
// vector pass into kReps copies, added in a fixed order; otherwise the run-length pass).
template <typename T>
void SumsCpu(const T* x, const int64_t* y, int64_t B, int64_t CH, int64_t N, int64_t K, int64_t ignore, double* sums,
             int64_t* counts, uint8_t* compact, std::optional<int64_t>& bad_label) {
  const int64_t chunks_per_b = (N + kChunk - 1) / kChunk;
  const int64_t tasks = B * chunks_per_b;
  std::vector<double> partial(tasks * K * CH, 0.0);
  std::vector<int64_t> partial_n(tasks * K, 0);
  std::vector<int64_t> bad(tasks, 0);
  std::vector<char> has_bad(tasks, 0);
#if SD_X86_SIMD
  const bool simd = std::is_same_v<T, float> && CH <= kMaxVectorChannels && HasAvx2();
  const int64_t CW = RowWidth(CH), K1 = K + 1;
#endif
  at::parallel_for(0, tasks, 1, [&](int64_t t0, int64_t t1) {
#if SD_X86_SIMD
    // the vector pass's accumulator copies, once per thread's range and cleared per task
    std::optional<Copies> copies;
    if (simd) copies.emplace(K, CW);
#endif
    for (int64_t t = t0; t < t1; t++) {
      const int64_t b = t / chunks_per_b, start = (t % chunks_per_b) * kChunk, stop = std::min(N, start + kChunk);
      double* acc = partial.data() + t * K * CH;
      int64_t* n = partial_n.data() + t * K;
      const T* xb = x + b * CH * N;
      const int64_t* yb = y + b * N;
      uint8_t* cb = compact + b * N;
#if SD_X86_SIMD
      if constexpr (std::is_same_v<T, float>) {
        if (simd) {
          copies->Clear();
          bool any_bad = false;
          WithChannelsUpTo(
              CH,
              [&](auto ch) {  // 1 <= CH <= kMaxVectorChannels here (no channels: the callers' reshape refuses it)
                if constexpr (decltype(ch)::value > 0)
                  any_bad = SumPixelsAvx2<decltype(ch)::value>(xb, yb, N, K, ignore, start, stop, *copies, cb);
              },
              std::make_integer_sequence<int, kMaxVectorChannels>{});
          if (any_bad) has_bad[t] = 1, bad[t] = FirstBad(yb, K, ignore, start, stop);
          for (int64_t k = 0; k < K; k++) {  // the copies, in a fixed order
            for (int r = 0; r < kReps; r++) {
              for (int64_t c = 0; c < CH; c++) acc[k * CH + c] += copies->d[(r * K1 + k) * CW + c];
              n[k] += copies->n[r * K1 + k];
            }
          }
          continue;
        }
      }
#endif
      auto chunk = [&](auto fixed) {
        SumChunk<decltype(fixed)::value>(xb, yb, CH, N, K, ignore, start, stop, acc, n, cb, has_bad[t], bad[t]);
      };
      // the channel counts of segmentation heads (classes incl. background); others at run time
      WithChannels<2, 3, 4, 5, 6, 7, 8, 9, 14, 16>(CH, chunk);
    }
  });
  for (int64_t t = 0; t < tasks; t++) {
    if (has_bad[t] && !bad_label) bad_label = bad[t];
    const int64_t b = t / chunks_per_b;
    for (int64_t j = 0; j < K * CH; j++) sums[b * K * CH + j] += partial[t * K * CH + j];
    for (int64_t k = 0; k < K; k++) counts[b * K + k] += partial_n[t * K + k];
  }
}

#if SD_X86_SIMD
// Gradients at least this large are written with streaming stores: far larger than a core's
// L2, they would not stay there anyway, and a normal store first reads each line it fills
// (measured on 2 vCPUs, 8x7x224^2: backward 0.52 -> 0.44 ms back to back, 1.14 -> 0.6 ms from
// cold caches; a consumer reading the gradient right after was no slower). Smaller ones stay
// in cache for the backward that reads them next.
constexpr int64_t kStreamBytes = 4 << 20;

// float, K <= 16: 8 pixels at a time, their values looked up in the column held in registers
// (vpermps), 0 where the label is the skip label. Streaming stores need 32-byte alignment: the
// pixels before the first aligned one are written one by one.
template <bool Stream>
__attribute__((target("avx2"))) void ScatterColumnAvx2(const float* column, const uint8_t* yb, int64_t K, int64_t start,
                                                       int64_t stop, float* oc) {
  const __m256 lo = _mm256_loadu_ps(column), hi = _mm256_loadu_ps(column + 8);
  const __m256i kv = _mm256_set1_epi32(static_cast<int>(K));
  int64_t i = start;
  if constexpr (Stream) {
    for (; i < stop && reinterpret_cast<uintptr_t>(oc + i) % 32 != 0; i++) oc[i] = column[yb[i]];
  }
  for (; i + 8 <= stop; i += 8) {
    __m256i idx = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(yb + i)));
    __m256 v = _mm256_permutevar8x32_ps(lo, idx);
    if (K > 8)
      v = _mm256_blendv_ps(v, _mm256_permutevar8x32_ps(hi, idx), _mm256_castsi256_ps(_mm256_slli_epi32(idx, 28)));
    v = _mm256_and_ps(v, _mm256_castsi256_ps(_mm256_cmpgt_epi32(kv, idx)));
    if constexpr (Stream)
      _mm256_stream_ps(oc + i, v);
    else
      _mm256_storeu_ps(oc + i, v);
  }
  for (; i < stop; i++) oc[i] = column[yb[i]];
}
#endif

// Per chunk and channel, one contiguous write: out[c, i] = column_c[label_i], where the
// 256-entry column holds table[k, c] for classes and 0 for the skip label.
template <typename T>
void ScatterCpu(const T* table, const uint8_t* y, int64_t B, int64_t CH, int64_t N, int64_t K, T* out) {
  const int64_t chunks_per_b = (N + kChunk - 1) / kChunk;
#if SD_X86_SIMD
  const bool simd = std::is_same_v<T, float> && K <= 16 && HasAvx2();
  const bool stream = B * CH * N * static_cast<int64_t>(sizeof(T)) >= kStreamBytes;
#endif
  at::parallel_for(0, B * chunks_per_b, 1, [&](int64_t t0, int64_t t1) {
    T column[256];
    for (int64_t t = t0; t < t1; t++) {
      const int64_t b = t / chunks_per_b, start = (t % chunks_per_b) * kChunk, stop = std::min(N, start + kChunk);
      const uint8_t* yb = y + b * N;
      for (int64_t c = 0; c < CH; c++) {
        for (int j = 0; j < 256; j++) column[j] = j < K ? table[(b * K + j) * CH + c] : T(0);
        T* oc = out + (b * CH + c) * N;
#if SD_X86_SIMD
        if constexpr (std::is_same_v<T, float>) {
          if (simd) {
            stream ? ScatterColumnAvx2<true>(column, yb, K, start, stop, oc)
                   : ScatterColumnAvx2<false>(column, yb, K, start, stop, oc);
            continue;
          }
        }
#endif
        for (int64_t i = start; i < stop; i++) oc[i] = column[yb[i]];
      }
    }
#if SD_X86_SIMD
    if (simd && stream) _mm_sfence();  // the streamed lines visible before the task ends
#endif
  });
}

}  // namespace

PrototypeSums ComputePrototypeSums(const at::Tensor& logits, const at::Tensor& labels, int64_t K,
                                   int64_t ignore_index) {
  const int64_t B = logits.size(0), CH = logits.size(1), N = logits.size(2);
  auto opts = logits.options();
  PrototypeSums r{at::zeros({B, K, CH}, opts.dtype(at::kDouble)), at::zeros({B, K}, opts.dtype(at::kLong)),
                  at::empty({B, N}, opts.dtype(at::kByte))};
  if (logits.is_cuda()) {
#ifdef SD_WITH_CUDA
    PrototypeSumsCuda(logits, labels, K, ignore_index, r.sums, r.counts, r.compactLabels);
    return r;
#else
    NoCuda();
#endif
  }
  AT_DISPATCH_FLOATING_TYPES(logits.scalar_type(), "prototype_sums", [&] {
    SumsCpu<scalar_t>(logits.const_data_ptr<scalar_t>(), labels.const_data_ptr<int64_t>(), B, CH, N, K, ignore_index,
                      r.sums.mutable_data_ptr<double>(), r.counts.mutable_data_ptr<int64_t>(),
                      r.compactLabels.mutable_data_ptr<uint8_t>(), r.badLabel);
  });
  return r;
}

at::Tensor ScatterByLabel(const at::Tensor& table, const at::Tensor& compact_labels, int64_t N) {
  const int64_t B = table.size(0), K = table.size(1), CH = table.size(2);
  at::Tensor out = at::empty({B, CH, N}, table.options());
  if (table.is_cuda()) {
#ifdef SD_WITH_CUDA
    ScatterByLabelCuda(table, compact_labels, out);
    return out;
#else
    NoCuda();
#endif
  }
  AT_DISPATCH_FLOATING_TYPES(table.scalar_type(), "scatter_by_label", [&] {
    ScatterCpu<scalar_t>(table.const_data_ptr<scalar_t>(), compact_labels.const_data_ptr<uint8_t>(), B, CH, N, K,
                         out.mutable_data_ptr<scalar_t>());
  });
  return out;
}

at::Tensor DistForward(const at::Tensor& P, const at::Tensor& counts, const at::Tensor& Tn, const dist::Params& p) {
  at::Tensor out = at::zeros({3}, P.options());
  if (P.is_cuda()) {
#ifdef SD_WITH_CUDA
    DistForwardCuda(P, counts, Tn, p, out);
    return out;
#else
    NoCuda();
#endif
  }
  const int64_t B = P.size(0);
  std::vector<double> scratch(dist::ScratchSize(p));
  double inter = 0, intra = 0;
  int64_t n_inter = 0, n_intra = 0;
  for (int64_t b = 0; b < B; b++) {
    auto t =
        dist::SampleForward(P.const_data_ptr<double>() + b * p.K * p.CH, counts.const_data_ptr<int64_t>() + b * p.K,
                            Tn.const_data_ptr<double>(), p, scratch.data());
    if (t.present >= dist::MinPresentInter(p)) inter += t.inter, n_inter++;
    if (t.present >= dist::MinPresentIntra(p)) intra += t.intra, n_intra++;
  }
  auto c = dist::Combine(inter, n_inter, intra, n_intra, p);
  double* o = out.mutable_data_ptr<double>();
  o[0] = c.loss;
  o[1] = c.inter;
  o[2] = c.intra;
  return out;
}

at::Tensor DistBackward(const at::Tensor& P, const at::Tensor& counts, const at::Tensor& Tn, const dist::Params& p,
                        const at::Tensor& grad_out) {
  at::Tensor gP = at::zeros_like(P);
  if (P.is_cuda()) {
#ifdef SD_WITH_CUDA
    DistBackwardCuda(P, counts, Tn, p, grad_out, gP);
    return gP;
#else
    NoCuda();
#endif
  }
  const int64_t B = P.size(0);
  const int64_t* n = counts.const_data_ptr<int64_t>();
  auto c = dist::BackwardCoefficients(n, B, p, grad_out.item<double>());
  std::vector<double> scratch(dist::ScratchSize(p));
  for (int64_t b = 0; b < B; b++) {
    dist::SampleBackward(P.const_data_ptr<double>() + b * p.K * p.CH, n + b * p.K, Tn.const_data_ptr<double>(), p,
                         c.coefInter, c.coefIntra, scratch.data(), gP.mutable_data_ptr<double>() + b * p.K * p.CH);
  }
  return gP;
}

}  // namespace sd::ops
