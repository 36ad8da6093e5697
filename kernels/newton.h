/* newton.h: maximising a smooth function of a few parameters by Newton's
 * method with a line search (the lifetime-value fits, src/clv.c).
 *
 * The caller evaluates the function, its gradient and its Hessian at a
 * point (for the fits: sums over every customer, combined over ranks: one
 * Allreduce per evaluation); this file only decides where to evaluate:
 *   - a Newton step d = (-H)^-1 g when -H is positive definite (Cholesky);
 *     otherwise a gradient step d = g scaled to the Cauchy point
 *     g·g / (-g·H·g) (or to unit length when g·H·g >= 0);
 *   - steps longer than max_step in any coordinate are shortened;
 *   - backtracking: t = 1, 1/2, 1/4, ... until f(θ + t d) >= f(θ) +
 *     1e-4 t g·d (Armijo), or until f(θ + t d) is within 1e-12 |f| of
 *     f(θ) with a smaller gradient: near a flat maximum f's sums round at
 *     that level, and the point that zeroes the gradient can come out
 *     1e-14 below (Gamma-Gamma on the generated data, where q and γ are
 *     nearly collinear); every trial point is one evaluation, and an
 *     accepted trial point's gradient and Hessian are the next step's;
 *   - stop when ‖g‖ <= tol (converged), when a coordinate reaches ±bound
 *     (the maximum is not at finite parameters), when no step length
 *     raises f (stalled at the precision of the sums), or after
 *     max_evals evaluations.
 * The state after each accepted step is the point and the counters, so a
 * stopped fit resumes from it (the hook) and takes the same path: every
 * decision depends on the point's evaluation only. No MPI, no files.
 */
#ifndef SEGCAST_NEWTON_H
#define SEGCAST_NEWTON_H

#define NT_MAX_DIM 4

/// An evaluation: value, gradient, Hessian (upper triangle, row-major).
typedef struct {
  double f;
  double g[NT_MAX_DIM];
  double h[NT_MAX_DIM * (NT_MAX_DIM + 1) / 2];
  int ok;  ///< 0: the point is unusable (a term overflowed); treated as f = -inf
} nt_eval;

/// Evaluates at th into *e; returns 0, or a nonzero code that nt_maximize
/// returns at once (an error of the caller, e.g. a failed Allreduce).
typedef int (*nt_eval_fn)(void *ctx, const double *th, nt_eval *e);

enum { NT_RUNNING = 0, NT_CONVERGED = 1, NT_AT_BOUND = 2, NT_STALLED = 3, NT_MAX_EVALS = 4 };

/// Where a fit is: the accepted point and what it took to get there.
typedef struct {
  int dim;
  double th[NT_MAX_DIM];
  nt_eval at;        ///< evaluation at th (valid when have_at)
  int have_at;
  long evals;        ///< evaluations made (a resumed fit does not count its first)
  long steps;        ///< accepted steps
  long newton_steps, gradient_steps;
  int status;        ///< NT_* once stopped
} nt_state;

/// After every accepted step (st->steps counts it); nonzero stops the fit
/// and is returned (a checkpoint that asks the program to stop).
typedef int (*nt_hook_fn)(void *ctx, const nt_state *st);

typedef struct {
  int dim;
  double tol;       ///< on the gradient's Euclidean norm
  double bound;     ///< |θ_i| stays below this
  double max_step;  ///< longest step in one coordinate
  long max_evals;
  nt_eval_fn eval;
  nt_hook_fn hook;  ///< may be NULL
  void *ctx;
} nt_problem;

/// Starts a state at th0 (no evaluation yet).
void nt_start(nt_state *st, int dim, const double *th0);
/// Runs from st until it stops; st->status says why. Returns 0 or the
/// eval's or hook's nonzero code.
int nt_maximize(const nt_problem *p, nt_state *st);
/// ‖g‖ of an evaluation.
double nt_gnorm(const nt_eval *e, int dim);
/// Solves (-H) d = g by Cholesky (H upper triangle, dim <= NT_MAX_DIM);
/// 0, or -1 when -H is not positive definite.
int nt_newton_dir(const double *h, const double *g, int dim, double *d);

#endif
