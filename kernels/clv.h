/* clv.h: the hot loops of the lifetime-value models (DATA.md 8).
 *
 * Pure C + OpenMP over plain arrays; no MPI, no files. The stage (src/clv.c)
 * calls these on a rank's customers and combines the results over ranks.
 *
 * 1. Special functions: digamma and trigamma (shift to x >= 10, then the
 *    asymptotic series), and the Gauss hypergeometric series 2F1 for
 *    0 <= z < 1. The BG/NBD conditional expectation uses 2F1 through
 *    Euler's transformation (clv_bg_expected says why): its parameters then
 *    no longer grow with x, so large x needs few terms, not many.
 * 2. Customer summaries (clv_summarize): a customer's valid lines on one
 *    calendar day are one transaction; x, t_x, T in days, the repeat
 *    transactions' value in millionths, holdout transactions.
 * 3. Likelihood sums: per evaluation, the log-likelihood, its gradient and
 *    its Hessian with respect to the log-parameters, summed over customers
 *    as fixed-point integers (kernels/fxsum.h), so the sums are the same
 *    bits at any rank or thread count. BG/NBD customers are grouped by
 *    (x, t_x, T) (the likelihood depends on nothing else): a group of n
 *    adds n times each term's fixed-point value, which is exactly what its
 *    n customers would add one by one. Everything that depends on x alone
 *    (sums of 1/(r+k) for k < x: lnΓ, ψ and ψ' differences) or on a day
 *    count alone (ln(α + d/unit)) comes from tables filled once per
 *    evaluation.
 * 4. Per-customer predictions: P(alive), conditional expected purchases,
 *    Gamma-Gamma expected transaction value.
 */
#ifndef SEGCAST_CLV_H
#define SEGCAST_CLV_H

#include <stdint.h>

#include "fxsum.h"

/* ---- special functions --------------------------------------------------- */

/// ψ(x) for x > 0 (relative error about 1e-15).
double clv_digamma(double x);
/// ψ'(x) for x > 0.
double clv_trigamma(double x);
/// 2F1(a, b; c; z) for 0 <= z < 1 and c > 0 by its power series, summed
/// until a term no longer changes the sum; NaN when 100,000 terms do not
/// get there (only for z within about 1e-4 of 1).
double clv_hyp2f1(double a, double b, double c, double z);

/* ---- customer summaries -------------------------------------------------- */

/// A rank's lines as plain arrays, sorted by (user_id, row).
typedef struct {
  int64_t n;
  const int64_t *user_id;
  const int32_t *day;
  const double *amount;  ///< the line's revenue (rounded to millionths here)
  const uint8_t *flags;  ///< bit 1: a valid sale (table.h's SC_LINE_VALID)
} clv_lines;

/// Per customer (one entry per group of clv_summarize's starts).
typedef struct {
  int32_t *x;             ///< repeat transactions in calibration (-1: no transaction by cal_end)
  int32_t *tx_days;       ///< last calibration transaction day - first
  int32_t *T_days;        ///< cal_end + 1 - first
  int32_t *first_day;     ///< day of the first transaction
  int64_t *repeat_micro;  ///< summed value of the repeat calibration transactions, millionths
  int32_t *holdout;       ///< transactions in (cal_end, as_of)
} clv_summary;

/// Per group g (lines starts[g] .. starts[g+1]-1, one user): the summary
/// of the valid lines dated before as_of, with the calibration period
/// ending on day cal_end (included). When repeat_days is not NULL, adds 1
/// at repeat_days[d - day0] for every transaction day d > first of a
/// customer with first <= cal_end (d < as_of, day0 <= d), and first_days
/// counts the customers' first days the same way (both ndays long).
/// OpenMP over groups. Returns 0, or -1 without scratch memory.
int clv_summarize(const clv_lines *in, const int64_t *starts, int64_t ngroups, int32_t cal_end, int32_t as_of,
                  clv_summary *out, int32_t day0, int32_t ndays, int64_t *repeat_days, int64_t *first_days);

/* ---- BG/NBD --------------------------------------------------------------- */

/// Terms of an evaluation: log-likelihood, gradient (4), Hessian (upper
/// triangle, row-major: 00 01 02 03 11 12 13 22 23 33), all with respect to
/// the log-parameters (ln r, ln α, ln a, ln b) for BG/NBD and
/// (ln p, ln q, ln γ) for Gamma-Gamma (then 1 + 3 + 6 terms).
#define CLV_BG_TERMS 15
#define CLV_GG_TERMS 10

/// Customers grouped by (x, t_x, T); sorted by (x, T, t_x) so that groups
/// sharing (x, T) (the same 2F1) are adjacent.
typedef struct {
  int64_t n;
  const int32_t *x, *tx_days, *T_days;
  const int64_t *count;
} clv_groups;

/// Tables of one parameter point, for x = 0..xmax and day counts 0..dmax.
typedef struct {
  int xmax, dmax;
  double unit;  ///< days per time unit
  double r, alpha, a, b, ln_r, ln_alpha, ln_a, ln_b;
  double *lg;   ///< lnΓ(r+x)-lnΓ(r) + lnΓ(b+x)-lnΓ(b) + lnΓ(a+b)-lnΓ(a+b+x)
  double *gr;   ///< r Σ 1/(r+k)            (k < x)
  double *hrr;  ///< -r² Σ 1/(r+k)²
  double *ga;   ///< -a Σ 1/(a+b+k)
  double *gb;   ///< b Σ 1/(b+k) - b Σ 1/(a+b+k)
  double *haa;  ///< a² Σ 1/(a+b+k)² + ga
  double *hab;  ///< a b Σ 1/(a+b+k)²
  double *hbb;  ///< b² (Σ 1/(a+b+k)² - Σ 1/(b+k)²) + gb
  double *lnb;  ///< ln(b + x - 1) (x >= 1)
  double *beta; ///< b / (b + x - 1) (x >= 1)
  double *lt;   ///< ln(α + d/unit)
  double *it;   ///< α / (α + d/unit)
} clv_bg_tables;

/// Allocates tables for x <= xmax and day counts <= dmax. 0 or -1.
int clv_bg_tables_init(clv_bg_tables *t, int xmax, int dmax, double unit_days);
void clv_bg_tables_free(clv_bg_tables *t);
/// Fills the tables at the log-parameters th = (ln r, ln α, ln a, ln b).
void clv_bg_tables_fill(clv_bg_tables *t, const double th[4]);
/// Adds the groups' terms (only the log-likelihood when !derivs) to acc,
/// in 2^-63 units. A term that is not finite or not below 2^40 in size
/// makes the point unusable: *bad gets the number of such groups.
void clv_bg_accumulate(const clv_groups *g, const clv_bg_tables *t, int derivs, fx_acc acc[CLV_BG_TERMS], int64_t *bad);
/// One customer's log-likelihood and log-parameter derivatives, as
/// clv_bg_accumulate adds them for a group of one (tests, references).
void clv_bg_terms(int32_t x, int32_t tx_days, int32_t T_days, const clv_bg_tables *t, double out[CLV_BG_TERMS]);

/// P(alive) of a customer at the tables' point.
double clv_bg_p_alive(int32_t x, int32_t tx_days, int32_t T_days, const clv_bg_tables *t);
/// Expected transactions in the next h units of a customer still alive
/// (FHL 2005 eq. 10 without its P(alive) factor), x > 0 or not:
///   (a+b+x-1)/(a-1) [1 - ((α+T)/(α+T+h))^(r+x) 2F1(r+x, b+x; a+b+x-1; z)]
/// with z = h/(α+T+h). Euler's transformation 2F1(A,B;C;z) =
/// (1-z)^(C-A-B) 2F1(C-A, C-B; C; z) turns the bracket into
///   1 - (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z),
/// whose series has parameters that do not grow with x and a factor a-1
/// in every term after the first, so the division by a-1 is done
/// analytically and a = 1 is no special case; a = 0 (the NBD limit, no
/// dropout) gives (r+x) h/(α+T). T_units = T in units (T = 0
/// gives the unconditional E[X(h)] of a new customer). NaN when the
/// series does not converge.
double clv_bg_expected(int32_t x, double T_units, double h, const clv_bg_tables *t);

/* ---- Gamma-Gamma ------------------------------------------------------------ */

/// Customers with x > 0: x and the mean repeat transaction value m.
typedef struct {
  int64_t n;
  const int32_t *x;
  const double *m;
} clv_gg_data;

/// The per-customer sums the Gamma-Gamma terms need at γ, in 2^-63 units
/// (with u = γ/(γ+m x)): Σ ln(γ+m x), Σ x ln(γ+m x), Σ u, Σ x u,
/// Σ u(1-u), Σ x u(1-u). *bad counts customers with a non-finite value.
#define CLV_GG_SUMS 6
void clv_gg_accumulate(const clv_gg_data *d, double gamma, fx_acc acc[CLV_GG_SUMS], int64_t *bad);
/// The constant sums Σ ln m and Σ x ln m (once per fit), 2^-63 units.
void clv_gg_constants(const clv_gg_data *d, fx_acc acc[2]);
/// The Gamma-Gamma terms at th = (ln p, ln q, ln γ) from the global sums
/// (clv_gg_accumulate's and clv_gg_constants' values as doubles) and the
/// global histogram nx[x] of x = 1..xmax (nx[0] unused): log-likelihood,
/// gradient, Hessian upper triangle (00 01 02 11 12 22) in log-parameters.
void clv_gg_terms(const double th[3], const int64_t *nx, int xmax, const double sums[CLV_GG_SUMS],
                  const double consts[2], double out[CLV_GG_TERMS]);
/// Expected value of one future transaction: (q-1)/(px+q-1) γp/(q-1) +
/// px/(px+q-1) m for x > 0, γp/(q-1) for x = 0 (NaN when q <= 1).
double clv_gg_expected_value(int32_t x, double m, double p, double q, double gamma);

#endif
