// The per-sample math of the DIST loss (docs/design.md, "The DIST loss"), written once for
// the CPU loops and the CUDA kernels: plain double arithmetic on raw arrays.
//
// For one sample with prototype rows P[k, :] (K classes x CH channels; class k present where
// n[k] > 0, the caller having zeroed the counts of classes the teacher never saw) and the
// teacher's softmax rows Tn[k, :], with K_b the present classes and m = |K_b|:
//   S[k, :] = softmax(P[k, :] / tau)
//   inter   = 1 - mean over k in K_b of rho(S[k, :], Tn[k, :])                 (rows, eq. 2; m >= 1)
//   intra   = 1 - mean over j in J of rho(S[K_b, j], Tn[K_b, j])               (columns, eq. 3)
// where J = K_b and m >= 3 (default), or J = all CH channels and m >= 2 (allChannels, the first
// definition), and rho the Pearson correlation <a - mean a, b - mean b> / (|a - mean a| |b - mean b| + eps).
// A correlation of two values is +-1 with zero gradient, hence m >= 3 over the present channels;
// columns of absent classes hold probabilities near 0 whose spread is below eps (degenerate).
#pragma once
#include <cmath>
#include <cstdint>

#ifdef __CUDACC__
#define SD_HD __host__ __device__
#else
#define SD_HD
#endif

namespace sd::ops::dist {

struct Params {
  int64_t K;   // classes (rows)
  int64_t CH;  // channels (columns)
  double tau;
  double interWeight;
  double intraWeight;
  double eps;
  bool allChannels;  // L_intra over every channel (the first definition) instead of the present classes'
};

// Present classes a sample needs for each term.
SD_HD inline int64_t MinPresentInter(const Params&) { return 1; }
SD_HD inline int64_t MinPresentIntra(const Params& p) { return p.allChannels ? 2 : 3; }
// Whether channel j enters L_intra for a sample with counts n.
SD_HD inline bool IntraChannel(const int64_t* n, const Params& p, int64_t j) {
  return p.allChannels || (j < p.K && n[j] > 0);
}

// Scratch doubles one sample needs.
SD_HD inline int64_t ScratchSize(const Params& p) { return 2 * p.K * p.CH + 3 * p.K; }

// Pearson correlation of a and b (length n); adds scale * d rho / d a to grad_a when given.
SD_HD inline double Pearson(const double* a, const double* b, int64_t n, double eps, double* grad_a, double scale) {
  double ma = 0, mb = 0;
  for (int64_t i = 0; i < n; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= n;
  mb /= n;
  double num = 0, saa = 0, sbb = 0;
  for (int64_t i = 0; i < n; i++) {
    double ac = a[i] - ma, bc = b[i] - mb;
    num += ac * bc;
    saa += ac * ac;
    sbb += bc * bc;
  }
  double sa = sqrt(saa), sb = sqrt(sbb), den = sa * sb + eps;
  if (grad_a != nullptr) {
    // d num / d a_i = bc_i and d sa / d a_i = ac_i / sa (the mean terms cancel)
    for (int64_t i = 0; i < n; i++) {
      double ac = a[i] - ma, bc = b[i] - mb;
      double dsa = sa > 0 ? ac / sa : 0.0;
      grad_a[i] += scale * (bc / den - num * sb * dsa / (den * den));
    }
  }
  return num / den;
}

// Row-wise softmax(x / tau) of one row of length n.
SD_HD inline void SoftmaxRow(const double* x, int64_t n, double tau, double* out) {
  double mx = x[0] / tau;
  for (int64_t i = 1; i < n; i++) mx = fmax(mx, x[i] / tau);
  double z = 0;
  for (int64_t i = 0; i < n; i++) {
    out[i] = exp(x[i] / tau - mx);
    z += out[i];
  }
  for (int64_t i = 0; i < n; i++) out[i] /= z;
}

// Gathers column j of S and Tn over the present classes into a and b; returns their count.
SD_HD inline int64_t GatherPresentColumn(const double* S, const double* Tn, const int64_t* n, const Params& p,
                                         int64_t j, double* a, double* b) {
  int64_t m = 0;
  for (int64_t k = 0; k < p.K; k++) {
    if (n[k] <= 0) continue;
    a[m] = S[k * p.CH + j];
    b[m] = Tn[k * p.CH + j];
    m++;
  }
  return m;
}

struct SampleTerms {
  double inter;  // rows; valid where present >= MinPresentInter
  double intra;  // columns; valid where present >= MinPresentIntra
  int64_t present;
};

// Forward for one sample. scratch: ScratchSize(p) doubles.
SD_HD inline SampleTerms SampleForward(const double* P, const int64_t* n, const double* Tn, const Params& p,
                                       double* scratch) {
  double* S = scratch;
  double* a = scratch + 2 * p.K * p.CH;
  double* b = a + p.K;
  SampleTerms t{0, 0, 0};
  double rho_sum = 0;
  for (int64_t k = 0; k < p.K; k++) {
    if (n[k] <= 0) continue;
    t.present++;
    SoftmaxRow(P + k * p.CH, p.CH, p.tau, S + k * p.CH);
    rho_sum += Pearson(S + k * p.CH, Tn + k * p.CH, p.CH, p.eps, nullptr, 0);
  }
  if (t.present >= MinPresentInter(p)) t.inter = 1 - rho_sum / t.present;
  if (t.present >= MinPresentIntra(p)) {
    double intra_sum = 0;
    int64_t channels = 0;
    for (int64_t j = 0; j < p.CH; j++) {
      if (!IntraChannel(n, p, j)) continue;
      int64_t m = GatherPresentColumn(S, Tn, n, p, j, a, b);
      intra_sum += Pearson(a, b, m, p.eps, nullptr, 0);
      channels++;
    }
    t.intra = 1 - intra_sum / channels;
  }
  return t;
}

// d loss / d P for one sample, where loss = coef_inter * inter + coef_intra * intra (each
// coefficient already holds tau^2, the term weight, 1 / samples with the term and the
// incoming gradient). Writes gP (K x CH; zero rows for absent classes).
SD_HD inline void SampleBackward(const double* P, const int64_t* n, const double* Tn, const Params& p,
                                 double coef_inter, double coef_intra, double* scratch, double* gP) {
  double* S = scratch;
  double* gS = scratch + p.K * p.CH;
  double* a = gS + p.K * p.CH;
  double* b = a + p.K;
  double* ga = b + p.K;
  int64_t present = 0;
  for (int64_t k = 0; k < p.K; k++) {
    for (int64_t j = 0; j < p.CH; j++) gS[k * p.CH + j] = 0;
    if (n[k] <= 0) continue;
    present++;
    SoftmaxRow(P + k * p.CH, p.CH, p.tau, S + k * p.CH);
  }
  if (present >= MinPresentInter(p)) {
    for (int64_t k = 0; k < p.K; k++) {
      if (n[k] > 0) Pearson(S + k * p.CH, Tn + k * p.CH, p.CH, p.eps, gS + k * p.CH, -coef_inter / present);
    }
  }
  if (present >= MinPresentIntra(p)) {
    int64_t channels = 0;
    for (int64_t j = 0; j < p.CH; j++) channels += IntraChannel(n, p, j);
    for (int64_t j = 0; j < p.CH; j++) {
      if (!IntraChannel(n, p, j)) continue;
      int64_t m = GatherPresentColumn(S, Tn, n, p, j, a, b);
      for (int64_t i = 0; i < m; i++) ga[i] = 0;
      Pearson(a, b, m, p.eps, ga, -coef_intra / channels);
      m = 0;
      for (int64_t k = 0; k < p.K; k++) {
        if (n[k] > 0) gS[k * p.CH + j] += ga[m++];
      }
    }
  }
  // through the softmax: gZ = S * (gS - <gS, S>), and Z = P / tau
  for (int64_t k = 0; k < p.K; k++) {
    double* g = gP + k * p.CH;
    if (n[k] <= 0) {
      for (int64_t j = 0; j < p.CH; j++) g[j] = 0;
      continue;
    }
    const double* s = S + k * p.CH;
    const double* gs = gS + k * p.CH;
    double dot = 0;
    for (int64_t j = 0; j < p.CH; j++) dot += gs[j] * s[j];
    for (int64_t j = 0; j < p.CH; j++) g[j] = s[j] * (gs[j] - dot) / p.tau;
  }
}

// The batch loss from per-sample terms, the per-term means (unweighted, for logs) and the
// per-term coefficients of the backward.
struct BatchCombination {
  double loss;
  double inter;  // mean over the samples having the term (0 where none has)
  double intra;
  double coefInter;  // per unit of incoming gradient
  double coefIntra;
};

SD_HD inline BatchCombination Combine(double inter_sum, int64_t inter_n, double intra_sum, int64_t intra_n,
                                      const Params& p) {
  double t2 = p.tau * p.tau;
  BatchCombination c{0, 0, 0, 0, 0};
  if (inter_n > 0) {
    c.inter = inter_sum / inter_n;
    c.loss += t2 * p.interWeight * c.inter;
    c.coefInter = t2 * p.interWeight / inter_n;
  }
  if (intra_n > 0) {
    c.intra = intra_sum / intra_n;
    c.loss += t2 * p.intraWeight * c.intra;
    c.coefIntra = t2 * p.intraWeight / intra_n;
  }
  return c;
}

// The backward's coefficients for a batch (how many samples have each term), times grad_out.
SD_HD inline BatchCombination BackwardCoefficients(const int64_t* counts, int64_t B, const Params& p, double grad_out) {
  int64_t n_inter = 0, n_intra = 0;
  for (int64_t b = 0; b < B; b++) {
    int64_t present = 0;
    for (int64_t k = 0; k < p.K; k++) present += counts[b * p.K + k] > 0;
    n_inter += present >= MinPresentInter(p);
    n_intra += present >= MinPresentIntra(p);
  }
  BatchCombination c = Combine(0, n_inter, 0, n_intra, p);
  c.coefInter *= grad_out;
  c.coefIntra *= grad_out;
  return c;
}

}  // namespace sd::ops::dist
