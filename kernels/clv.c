/* clv.c: special functions, customer summaries, and the BG/NBD and
 * Gamma-Gamma likelihood sums and predictions (clv.h says what each does).
 *
 * The BG/NBD log-likelihood of one customer (FHL 2005, eq. 6), written as
 *   ℓ = lnΓ(r+x)-lnΓ(r) + r ln α + lnΓ(b+x)-lnΓ(b) + lnΓ(a+b)-lnΓ(a+b+x)
 *       - (r+x) ln(α+T) + [x>0] ln(1 + e^c),
 *   c = ln a - ln(b+x-1) + (r+x) (ln(α+T) - ln(α+t_x)),
 * so P(alive) = 1/(1+e^c) and the log-sum-exp never overflows. The
 * derivatives are taken with respect to θ = ln(parameter): for a
 * parameter p, ∂ℓ/∂θ = p ∂ℓ/∂p and ∂²ℓ/∂θi∂θj = pi pj ∂²ℓ/∂pi∂pj +
 * [i=j] pi ∂ℓ/∂pi. In those coordinates every term is a bounded
 * expression of α/(α+T), r+x and ratios such as b/(b+x-1), so no term
 * grows like 1/α² when a trial point has a small α. ln(1+e^c) contributes
 * w c_ij + w(1-w) c_i c_j with w = 1 - P(alive) and c_i, c_ij the
 * log-parameter derivatives of c.
 *
 * Integer x enters only through sums over k < x of ln(y+k), 1/(y+k),
 * 1/(y+k)² (y = r, b, a+b: the recurrences of lnΓ, ψ, ψ'), built for all
 * x at once per evaluation; t_x and T enter only through ln(α+d/unit) and
 * α/(α+d/unit) of whole day counts d, also tables.
 */
#include "clv.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* ---- special functions --------------------------------------------------- */

double clv_digamma(double x) {
  double acc = 0;
  while (x < 10) {
    acc -= 1 / x;
    x += 1;
  }
  double i2 = 1 / (x * x);
  /* ψ(x) ~ ln x - 1/(2x) - Σ B2k/(2k x^2k) */
  double s = i2 * (1.0 / 12 - i2 * (1.0 / 120 - i2 * (1.0 / 252 - i2 * (1.0 / 240 - i2 * (1.0 / 132 -
                                                                                         i2 * (691.0 / 32760))))));
  return acc + log(x) - 0.5 / x - s;
}

double clv_trigamma(double x) {
  double acc = 0;
  while (x < 10) {
    acc += 1 / (x * x);
    x += 1;
  }
  double i1 = 1 / x, i2 = i1 * i1;
  /* ψ'(x) ~ 1/x + 1/(2x²) + Σ B2k / x^(2k+1) */
  double s = i1 + 0.5 * i2 +
             i1 * i2 * (1.0 / 6 - i2 * (1.0 / 30 - i2 * (1.0 / 42 - i2 * (1.0 / 30 - i2 * (5.0 / 66 -
                                                                                       i2 * (691.0 / 2730 - i2 * (7.0 / 6)))))));
  return acc + s;
}

double clv_hyp2f1(double a, double b, double c, double z) {
  double sum = 1, term = 1;
  for (int k = 0; k < 100000; k++) {
    term *= (a + k) * (b + k) / ((c + k) * (k + 1)) * z;
    double next = sum + term;
    /* done when the term no longer moves the sum and the terms shrink
       (a later term can only be smaller: the ratio tends to z < 1) */
    if (next == sum && fabs((a + k + 1) * (b + k + 1) / ((c + k + 1) * (k + 2)) * z) < 1) return next;
    sum = next;
    if (term == 0) return sum;
  }
  return NAN;
}

/* ---- customer summaries -------------------------------------------------- */

typedef struct {
  int32_t day;
  int64_t micro;
} day_value;

static void sort_days(day_value *v, int64_t n) {
  for (int64_t i = 1; i < n; i++) {
    day_value t = v[i];
    int64_t j = i;
    while (j > 0 && v[j - 1].day > t.day) {
      v[j] = v[j - 1];
      j--;
    }
    v[j] = t;
  }
}

static int cmp_day(const void *a, const void *b) {
  int32_t x = ((const day_value *)a)->day, y = ((const day_value *)b)->day;
  return (x > y) - (x < y);
}

int clv_summarize(const clv_lines *in, const int64_t *starts, int64_t ngroups, int32_t cal_end, int32_t as_of,
                  clv_summary *out, int32_t day0, int32_t ndays, int64_t *repeat_days, int64_t *first_days) {
  int64_t longest = 1;
  for (int64_t g = 0; g < ngroups; g++)
    if (starts[g + 1] - starts[g] > longest) longest = starts[g + 1] - starts[g];
  int nt = omp_get_max_threads(), failed = 0;
  int64_t *hist = NULL;
  if (repeat_days) {
    hist = calloc((size_t)nt * 2 * (size_t)(ndays > 0 ? ndays : 1), sizeof *hist);
    if (!hist) return -1;
  }
#pragma omp parallel num_threads(nt)
  {
    day_value *v = malloc(sizeof *v * (size_t)longest);
    int64_t *rep = hist ? hist + (size_t)omp_get_thread_num() * 2 * (size_t)ndays : NULL, *fst = rep ? rep + ndays : NULL;
    if (!v) {
#pragma omp atomic write
      failed = 1;
    }
#pragma omp for schedule(dynamic, 256)
    for (int64_t g = 0; g < ngroups; g++) {
      if (!v) continue;
      int64_t n = 0;
      for (int64_t i = starts[g]; i < starts[g + 1]; i++) {
        if (!(in->flags[i] & 1) || in->day[i] >= as_of) continue;
        v[n].day = in->day[i];
        v[n].micro = (int64_t)rint(in->amount[i] * 1e6);
        n++;
      }
      if (n <= 32) sort_days(v, n);
      else if (n > 1) qsort(v, (size_t)n, sizeof *v, cmp_day);
      out->x[g] = -1;
      out->tx_days[g] = out->T_days[g] = out->first_day[g] = out->holdout[g] = 0;
      out->repeat_micro[g] = 0;
      if (n == 0 || v[0].day > cal_end) continue;
      int32_t first = v[0].day, last = first, prev = first;
      int32_t x = 0, hold = 0;
      int64_t rep_value = 0;
      for (int64_t i = 1; i < n; i++) {
        int32_t d = v[i].day;
        int fresh = d != prev;
        prev = d;
        if (d <= cal_end) {
          if (fresh) {
            x++;
            last = d;
          }
          if (x > 0) rep_value += v[i].micro;
        } else if (fresh) {
          hold++;
        }
        if (fresh && rep && d - day0 >= 0 && d - day0 < ndays) rep[d - day0]++;
      }
      out->x[g] = x;
      out->tx_days[g] = last - first;
      out->T_days[g] = cal_end + 1 - first;
      out->first_day[g] = first;
      out->repeat_micro[g] = rep_value;
      out->holdout[g] = hold;
      if (fst && first - day0 >= 0 && first - day0 < ndays) fst[first - day0]++;
    }
    free(v);
  }
  if (hist) {
    for (int t = 0; t < nt; t++)
      for (int32_t d = 0; d < ndays; d++) {
        repeat_days[d] += hist[((size_t)t * 2) * (size_t)ndays + (size_t)d];
        first_days[d] += hist[((size_t)t * 2 + 1) * (size_t)ndays + (size_t)d];
      }
    free(hist);
  }
  return failed ? -1 : 0;
}

/* ---- fixed point ------------------------------------------------------------ */

/* v in 2^-63 units, truncated: the same integer as fxsum.h's fx_q63, made
 * with two conversions and no trunc() (which the baseline x86-64 has no
 * instruction for): hi = trunc(v 2^10) and the exact remainder's 53 bits.
 * *ok is cleared when v is not finite or not below 2^40 in size: with
 * fewer than 2^23 customers a rank's sums then stay below 2^63 in value,
 * inside the 128-bit accumulator (the terms of real data are below 2^20:
 * squares of transaction counts at most). */
static inline fx_acc q63(double v, int *ok) {
  if (!(fabs(v) < 0x1p40)) {
    *ok = 0;
    return 0;
  }
  double t = v * 0x1p10;
  int64_t hi = (int64_t)t;
  int64_t lo = (int64_t)((t - (double)hi) * 0x1p53);
  return (fx_acc)hi * ((fx_acc)1 << 53) + lo;
}

/* ---- BG/NBD ------------------------------------------------------------------ */

int clv_bg_tables_init(clv_bg_tables *t, int xmax, int dmax, double unit_days) {
  memset(t, 0, sizeof *t);
  t->xmax = xmax < 0 ? 0 : xmax;
  t->dmax = dmax < 0 ? 0 : dmax;
  t->unit = unit_days;
  size_t nx = (size_t)t->xmax + 1, nd = (size_t)t->dmax + 1;
  double *m = malloc(sizeof(double) * (10 * nx + 2 * nd));
  if (!m) return -1;
  double **x_tabs[10] = {&t->lg, &t->gr, &t->hrr, &t->ga, &t->gb, &t->haa, &t->hab, &t->hbb, &t->lnb, &t->beta};
  for (int i = 0; i < 10; i++) *x_tabs[i] = m + (size_t)i * nx;
  t->lt = m + 10 * nx;
  t->it = t->lt + nd;
  return 0;
}

void clv_bg_tables_free(clv_bg_tables *t) {
  free(t->lg);
  memset(t, 0, sizeof *t);
}

void clv_bg_tables_fill(clv_bg_tables *t, const double th[4]) {
  t->ln_r = th[0];
  t->ln_alpha = th[1];
  t->ln_a = th[2];
  t->ln_b = th[3];
  double r = t->r = exp(th[0]), al = t->alpha = exp(th[1]), a = t->a = exp(th[2]), b = t->b = exp(th[3]);
  double ab = a + b;
  /* running sums over k < x */
  double l_r = 0, l_b = 0, l_ab = 0, s_r = 0, s_b = 0, s_ab = 0, q_r = 0, q_b = 0, q_ab = 0;
  for (int x = 0; x <= t->xmax; x++) {
    t->lg[x] = l_r + l_b - l_ab;
    t->gr[x] = r * s_r;
    t->hrr[x] = -r * r * q_r;
    t->ga[x] = -a * s_ab;
    t->gb[x] = b * (s_b - s_ab);
    t->haa[x] = a * a * q_ab + t->ga[x];
    t->hab[x] = a * b * q_ab;
    t->hbb[x] = b * b * (q_ab - q_b) + t->gb[x];
    t->lnb[x] = x >= 1 ? log(b + x - 1) : 0;
    t->beta[x] = x >= 1 ? b / (b + x - 1) : 0;
    double yr = r + x, yb = b + x, yab = ab + x;
    l_r += log(yr);
    l_b += log(yb);
    l_ab += log(yab);
    s_r += 1 / yr;
    s_b += 1 / yb;
    s_ab += 1 / yab;
    q_r += 1 / (yr * yr);
    q_b += 1 / (yb * yb);
    q_ab += 1 / (yab * yab);
  }
  for (int d = 0; d <= t->dmax; d++) {
    double s = al + d / t->unit;
    t->lt[d] = log(s);
    t->it[d] = al / s;
  }
}

/* The terms of one customer (x, t_x, T); only out[0] when !derivs. */
static inline void bg_terms(int32_t x, int32_t txd, int32_t Td, const clv_bg_tables *t, int derivs, double *o) {
  double r = t->r, lt = t->lt[Td], it = t->it[Td], rx = r + x;
  double ll = t->lg[x] + r * t->ln_alpha - rx * lt;
  double l1 = 0, w = 0, v = 0, G = 0, dI = 0, it2 = 0;
  if (x > 0) {
    G = lt - t->lt[txd];
    it2 = t->it[txd];
    dI = it - it2;
    double c = t->ln_a - t->lnb[x] + rx * G;
    /* w = 1/(1+e^-c) and w(1-w) = e/(1+e)^2 with e = e^-|c| */
    double e = exp(-fabs(c)), den = 1 / (1 + e);
    l1 = (c > 0 ? c : 0) + log1p(e);
    w = c > 0 ? den : e * den;
    v = e * den * den;
  }
  o[0] = ll + l1;
  if (!derivs) return;
  double gr = t->gr[x] + r * (t->ln_alpha - lt);
  double cr = r * G, ca = rx * dI, cb = -(x > 0 ? t->beta[x] : 0);
  o[1] = gr + w * cr;
  o[2] = r - rx * it + w * ca;
  o[3] = t->ga[x] + w;
  o[4] = t->gb[x] + w * cb;
  /* Hessian, upper triangle: rr rα ra rb αα αa αb aa ab bb */
  o[5] = t->hrr[x] + gr + w * cr + v * cr * cr;
  o[6] = r * (1 - it) + w * r * dI + v * cr * ca;
  o[7] = v * cr;
  o[8] = v * cr * cb;
  o[9] = -rx * it * (1 - it) + w * ca * (1 - it - it2) + v * ca * ca;
  o[10] = v * ca;
  o[11] = v * ca * cb;
  o[12] = t->haa[x] + v;
  o[13] = t->hab[x] + v * cb;
  o[14] = t->hbb[x] + w * (cb * cb + cb) + v * cb * cb;
}

void clv_bg_terms(int32_t x, int32_t tx_days, int32_t T_days, const clv_bg_tables *t, double out[CLV_BG_TERMS]) {
  bg_terms(x, tx_days, T_days, t, 1, out);
}

void clv_bg_accumulate(const clv_groups *g, const clv_bg_tables *t, int derivs, fx_acc acc[CLV_BG_TERMS], int64_t *bad) {
  const int nterm = derivs ? CLV_BG_TERMS : 1;
  int64_t nbad = 0;
#pragma omp parallel reduction(+ : nbad)
  {
    fx_acc a[CLV_BG_TERMS] = {0};
#pragma omp for schedule(static)
    for (int64_t i = 0; i < g->n; i++) {
      double o[CLV_BG_TERMS];
      bg_terms(g->x[i], g->tx_days[i], g->T_days[i], t, derivs, o);
      int ok = 1;
      fx_acc n = g->count[i];
      for (int k = 0; k < nterm; k++) a[k] += n * q63(o[k], &ok);
      nbad += !ok;
    }
    /* integer sums: the order threads add them in does not matter */
#pragma omp critical(clv_bg_acc)
    for (int k = 0; k < nterm; k++) acc[k] += a[k];
  }
  *bad += nbad;
}

double clv_bg_p_alive(int32_t x, int32_t tx_days, int32_t T_days, const clv_bg_tables *t) {
  if (x <= 0) return 1;
  double c = t->ln_a - t->lnb[x] + (t->r + x) * (t->lt[T_days] - t->lt[tx_days]);
  /* 1/(1+e^c), without overflow for large c */
  return c > 0 ? exp(-c) / (1 + exp(-c)) : 1 / (1 + exp(c));
}

double clv_bg_expected(int32_t x, double T_units, double h, const clv_bg_tables *t) {
  if (h <= 0) return 0;
  double r = t->r, a = t->a, b = t->b;
  double s = t->alpha + T_units;
  /* a = 0: no dropout, the NBD's (r+x) h / (α+T), whatever b */
  if (a == 0) return (r + x) * h / s;
  double z = h / (s + h), L = -log1p(h / s); /* L = ln(1-z) */
  double a1 = a - 1, u = a1 * L;
  /* (1 - e^u)/(a-1) = -L (e^u - 1)/u */
  double head = fabs(u) > 1e-8 ? -expm1(u) / a1 : -L * (1 + 0.5 * u);
  /* S = Σ_{k>=1} (A')_k (a)_{k-1} / ((C')_k k!) z^k with A' = a+b-1-r,
     C' = a+b+x-1: the series of 2F1(A', a-1; C'; z) less its first term,
     divided by a-1 */
  double A = a + b - 1 - r, C = a + b + x - 1;
  double term = A / C * z, S = term;
  int done = term == 0;
  for (int k = 1; k < 100000 && !done; k++) {
    term *= (A + k) * (a + k - 1) / ((C + k) * (k + 1)) * z;
    double next = S + term;
    if ((next == S && fabs((A + k + 1) * (a + k) / ((C + k + 1) * (k + 2)) * z) < 1) || term == 0) done = 1;
    S = next;
  }
  if (!done) return NAN;
  return (a + b + x - 1) * (head - exp(u) * S);
}

/* ---- Gamma-Gamma --------------------------------------------------------------- */

void clv_gg_accumulate(const clv_gg_data *d, double gamma, fx_acc acc[CLV_GG_SUMS], int64_t *bad) {
  int64_t nbad = 0;
#pragma omp parallel reduction(+ : nbad)
  {
    fx_acc a[CLV_GG_SUMS] = {0};
#pragma omp for schedule(static)
    for (int64_t i = 0; i < d->n; i++) {
      double x = d->x[i], s = gamma + d->m[i] * x, L = log(s), u = gamma / s, v = u * (1 - u);
      int ok = 1;
      a[0] += q63(L, &ok);
      a[1] += q63(x * L, &ok);
      a[2] += q63(u, &ok);
      a[3] += q63(x * u, &ok);
      a[4] += q63(v, &ok);
      a[5] += q63(x * v, &ok);
      nbad += !ok;
    }
#pragma omp critical(clv_gg_acc)
    for (int k = 0; k < CLV_GG_SUMS; k++) acc[k] += a[k];
  }
  *bad += nbad;
}

void clv_gg_constants(const clv_gg_data *d, fx_acc acc[2]) {
  fx_acc s0 = 0, s1 = 0;
  int ok = 1; /* log m and x log m are far below 2^52 */
  for (int64_t i = 0; i < d->n; i++) {
    double lm = log(d->m[i]);
    s0 += q63(lm, &ok);
    s1 += q63(d->x[i] * lm, &ok);
  }
  acc[0] = s0;
  acc[1] = s1;
}

void clv_gg_terms(const double th[3], const int64_t *nx, int xmax, const double sums[CLV_GG_SUMS],
                  const double consts[2], double out[CLV_GG_TERMS]) {
  double p = exp(th[0]), q = exp(th[1]), lgam = th[2];
  double lgq = lgamma(q), dgq = clv_digamma(q), tgq = clv_trigamma(q);
  double N = 0, ll = 0, gp = 0, gq = 0, hpp = 0, hpq = 0, hqq = 0;
  for (int x = 1; x <= xmax; x++) {
    if (!nx[x]) continue;
    double n = (double)nx[x], px = p * x, y = px + q;
    double dy = clv_digamma(y), ty = clv_trigamma(y), dpx = clv_digamma(px), tpx = clv_trigamma(px);
    N += n;
    ll += n * (lgamma(y) - lgamma(px) - lgq + px * log((double)x));
    gp += n * x * (dy - dpx + log((double)x));
    gq += n * (dy - dgq);
    hpp += n * (double)x * x * (ty - tpx);
    hpq += n * x * ty;
    hqq += n * (ty - tgq);
  }
  const double SL = sums[0], SxL = sums[1], Su = sums[2], Sxu = sums[3], Sv = sums[4], Sxv = sums[5];
  const double Slnm = consts[0], Sxlnm = consts[1];
  out[0] = ll + q * lgam * N + p * Sxlnm - Slnm - p * SxL - q * SL;
  out[1] = p * (gp + Sxlnm - SxL);
  out[2] = q * (gq + N * lgam - SL);
  out[3] = N * q - p * Sxu - q * Su;
  out[4] = p * p * hpp + out[1];
  out[5] = p * q * hpq;
  out[6] = -p * Sxu;
  out[7] = q * q * hqq + out[2];
  out[8] = q * (N - Su);
  out[9] = -(p * Sxv + q * Sv);
}

double clv_gg_expected_value(int32_t x, double m, double p, double q, double gamma) {
  if (!(q > 1)) return NAN;
  double pop = gamma * p / (q - 1);
  if (x <= 0) return pop;
  double px = p * x, den = px + q - 1;
  return (q - 1) / den * pop + px / den * m;
}
