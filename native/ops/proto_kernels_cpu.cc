// CPU passes (at::parallel_for over batch x pixel chunks) and the device dispatch.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>

#include <optional>
#include <type_traits>
#include <stdexcept>
#include <vector>

#include "ops/proto_kernels.h"

namespace sd::ops {
namespace {

constexpr int64_t kChunk = 8192;
constexpr uint8_t kSkip = 255;  // the compact label of a pixel that counts for no class  // pixels per task: large enough to amortise, small enough to balance

[[noreturn]] void NoCuda() { throw std::invalid_argument("logits: on CUDA, but this build of slice-distill has no CUDA kernels"); }

// One chunk's pixels [start, stop) of sample b, summed into acc [K, CH] and n [K]. Labels come
// in runs (organs are contiguous), so a run of one class is summed in registers and added to
// its row once: no store-to-load chain on the row from pixel to pixel. CHT > 0 fixes the
// channel count at compile time (the registers); 0 takes CH at run time.
template <int CHT, typename T>
void SumChunk(const T* xb, const int64_t* yb, int64_t CH_, int64_t N, int64_t K, int64_t ignore, int64_t start, int64_t stop,
              double* acc, int64_t* n, uint8_t* cb, char& has_bad, int64_t& bad) {
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
      if (l != ignore && !has_bad) has_bad = 1, bad = l;  // validated here, for free
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

// Per chunk: sums over its pixels, all channels at once per pixel.
template <typename T>
void SumsCpu(const T* x, const int64_t* y, int64_t B, int64_t CH, int64_t N, int64_t K, int64_t ignore, double* sums,
             int64_t* counts, uint8_t* compact, std::optional<int64_t>& bad_label) {
  const int64_t chunks_per_b = (N + kChunk - 1) / kChunk;
  const int64_t tasks = B * chunks_per_b;
  std::vector<double> partial(tasks * K * CH, 0.0);
  std::vector<int64_t> partial_n(tasks * K, 0);
  std::vector<int64_t> bad(tasks, 0);
  std::vector<char> has_bad(tasks, 0);
  at::parallel_for(0, tasks, 1, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; t++) {
      const int64_t b = t / chunks_per_b, start = (t % chunks_per_b) * kChunk, stop = std::min(N, start + kChunk);
      double* acc = partial.data() + t * K * CH;
      int64_t* n = partial_n.data() + t * K;
      const T* xb = x + b * CH * N;
      const int64_t* yb = y + b * N;
      uint8_t* cb = compact + b * N;
      auto chunk = [&](auto fixed) {
        SumChunk<decltype(fixed)::value>(xb, yb, CH, N, K, ignore, start, stop, acc, n, cb, has_bad[t], bad[t]);
      };
      // the channel counts of segmentation heads (classes incl. background); others at run time
      switch (CH) {
        case 2: chunk(std::integral_constant<int, 2>{}); break;
        case 3: chunk(std::integral_constant<int, 3>{}); break;
        case 4: chunk(std::integral_constant<int, 4>{}); break;
        case 5: chunk(std::integral_constant<int, 5>{}); break;
        case 6: chunk(std::integral_constant<int, 6>{}); break;
        case 7: chunk(std::integral_constant<int, 7>{}); break;
        case 8: chunk(std::integral_constant<int, 8>{}); break;
        case 9: chunk(std::integral_constant<int, 9>{}); break;
        case 14: chunk(std::integral_constant<int, 14>{}); break;
        case 16: chunk(std::integral_constant<int, 16>{}); break;
        default: chunk(std::integral_constant<int, 0>{}); break;
      }
    }
  });
  for (int64_t t = 0; t < tasks; t++) {
    if (has_bad[t] && !bad_label) bad_label = bad[t];
    const int64_t b = t / chunks_per_b;
    for (int64_t j = 0; j < K * CH; j++) sums[b * K * CH + j] += partial[t * K * CH + j];
    for (int64_t k = 0; k < K; k++) counts[b * K + k] += partial_n[t * K + k];
  }
}

// Per chunk and channel, one contiguous write: out[c, i] = column_c[label_i], where the
// 256-entry column holds table[k, c] for classes and 0 for the skip label.
template <typename T>
void ScatterCpu(const T* table, const uint8_t* y, int64_t B, int64_t CH, int64_t N, int64_t K, T* out) {
  const int64_t chunks_per_b = (N + kChunk - 1) / kChunk;
  at::parallel_for(0, B * chunks_per_b, 1, [&](int64_t t0, int64_t t1) {
    T column[256];
    for (int64_t t = t0; t < t1; t++) {
      const int64_t b = t / chunks_per_b, start = (t % chunks_per_b) * kChunk, stop = std::min(N, start + kChunk);
      const uint8_t* yb = y + b * N;
      for (int64_t c = 0; c < CH; c++) {
        for (int j = 0; j < 256; j++) column[j] = j < K ? table[(b * K + j) * CH + c] : T(0);
        T* oc = out + (b * CH + c) * N;
        for (int64_t i = start; i < stop; i++) oc[i] = column[yb[i]];
      }
    }
  });
}

}  // namespace

PrototypeSums ComputePrototypeSums(const at::Tensor& logits, const at::Tensor& labels, int64_t K, int64_t ignore_index) {
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
    auto t = dist::SampleForward(P.const_data_ptr<double>() + b * p.K * p.CH, counts.const_data_ptr<int64_t>() + b * p.K,
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
