// The per-sample math of the DIST loss (DESIGN.md, "Prototypes and the DIST loss"), written
// once for the CPU loops and the CUDA kernels: plain double arithmetic on raw arrays.
//
// For one sample with prototype rows P[k, :] (K classes x CH channels, row k valid where
// n[k] > 0) and the teacher's softmax rows Tn[k, :]:
//   S[k, :]  = softmax(P[k, :] / tau)
//   intra    = 1 - mean over present k of rho(S[k, :], Tn[k, :])            (m >= 1)
//   inter    = 1 - mean over channels j of rho(S[K_b, j], Tn[K_b, j])        (m >= 2)
// with rho the Pearson correlation, <a - mean a, b - mean b> / (|a - mean a| |b - mean b| + eps).
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
};

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
SD_HD inline int64_t GatherPresentColumn(const double* S, const double* Tn, const int64_t* n, const Params& p, int64_t j,
                                         double* a, double* b) {
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
  double intra;  // valid where present >= 1
  double inter;  // valid where present >= 2
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
  if (t.present >= 1) t.intra = 1 - rho_sum / t.present;
  if (t.present >= 2) {
    double inter_sum = 0;
    for (int64_t j = 0; j < p.CH; j++) {
      int64_t m = GatherPresentColumn(S, Tn, n, p, j, a, b);
      inter_sum += Pearson(a, b, m, p.eps, nullptr, 0);
    }
    t.inter = 1 - inter_sum / p.CH;
  }
  return t;
}

// d loss / d P for one sample, where loss = coef_intra * intra + coef_inter * inter (each
// coefficient already holds tau^2, the term weight, 1 / samples with the term and the
// incoming gradient). Writes gP (K x CH; zero rows for absent classes).
SD_HD inline void SampleBackward(const double* P, const int64_t* n, const double* Tn, const Params& p,
                                 double coef_intra, double coef_inter, double* scratch, double* gP) {
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
  if (present >= 1) {
    for (int64_t k = 0; k < p.K; k++) {
      if (n[k] > 0) Pearson(S + k * p.CH, Tn + k * p.CH, p.CH, p.eps, gS + k * p.CH, -coef_intra / present);
    }
  }
  if (present >= 2) {
    for (int64_t j = 0; j < p.CH; j++) {
      int64_t m = GatherPresentColumn(S, Tn, n, p, j, a, b);
      for (int64_t i = 0; i < m; i++) ga[i] = 0;
      Pearson(a, b, m, p.eps, ga, -coef_inter / p.CH);
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

// The batch loss from per-sample terms, and the per-term coefficients of the backward.
struct BatchCombination {
  double loss;
  double coefIntra;  // per unit of incoming gradient
  double coefInter;
};

SD_HD inline BatchCombination Combine(double intra_sum, int64_t intra_n, double inter_sum, int64_t inter_n,
                                      const Params& p) {
  double t2 = p.tau * p.tau;
  BatchCombination c{0, 0, 0};
  if (intra_n > 0) {
    c.loss += t2 * p.intraWeight * intra_sum / intra_n;
    c.coefIntra = t2 * p.intraWeight / intra_n;
  }
  if (inter_n > 0) {
    c.loss += t2 * p.interWeight * inter_sum / inter_n;
    c.coefInter = t2 * p.interWeight / inter_n;
  }
  return c;
}

// The backward's coefficients for a batch (how many samples have each term), times grad_out.
SD_HD inline BatchCombination BackwardCoefficients(const int64_t* counts, int64_t B, const Params& p, double grad_out) {
  int64_t n_intra = 0, n_inter = 0;
  for (int64_t b = 0; b < B; b++) {
    int64_t present = 0;
    for (int64_t k = 0; k < p.K; k++) present += counts[b * p.K + k] > 0;
    n_intra += present >= 1;
    n_inter += present >= 2;
  }
  BatchCombination c = Combine(0, n_intra, 0, n_inter, p);
  c.coefIntra *= grad_out;
  c.coefInter *= grad_out;
  return c;
}

}  // namespace sd::ops::dist
