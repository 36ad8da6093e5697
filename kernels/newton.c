/* newton.c: Newton's method with backtracking for a few parameters
 * (newton.h describes the rules). */
#include "newton.h"

#include <math.h>
#include <string.h>

/* index of (i, j), i <= j, in the upper triangle of a dim x dim matrix */
static int ut(int i, int j, int dim) {
  if (i > j) {
    int t = i;
    i = j;
    j = t;
  }
  return i * dim - i * (i - 1) / 2 + (j - i);
}

double nt_gnorm(const nt_eval *e, int dim) {
  double s = 0;
  for (int i = 0; i < dim; i++) s += e->g[i] * e->g[i];
  return sqrt(s);
}

int nt_newton_dir(const double *h, const double *g, int dim, double *d) {
  double L[NT_MAX_DIM][NT_MAX_DIM] = {{0}};
  for (int i = 0; i < dim; i++)
    for (int j = 0; j <= i; j++) {
      double s = -h[ut(i, j, dim)];
      for (int k = 0; k < j; k++) s -= L[i][k] * L[j][k];
      if (i == j) {
        /* positive definite with some room: a pivot this small against the
           diagonal means -H is singular at the precision of its sums */
        if (!(s > 1e-12 * fabs(h[ut(i, i, dim)])) || !(s > 0)) return -1;
        L[i][i] = sqrt(s);
      } else {
        L[i][j] = s / L[j][j];
      }
    }
  double y[NT_MAX_DIM];
  for (int i = 0; i < dim; i++) {
    double s = g[i];
    for (int k = 0; k < i; k++) s -= L[i][k] * y[k];
    y[i] = s / L[i][i];
  }
  for (int i = dim - 1; i >= 0; i--) {
    double s = y[i];
    for (int k = i + 1; k < dim; k++) s -= L[k][i] * d[k];
    d[i] = s / L[i][i];
  }
  for (int i = 0; i < dim; i++)
    if (!isfinite(d[i])) return -1;
  return 0;
}

void nt_start(nt_state *st, int dim, const double *th0) {
  memset(st, 0, sizeof *st);
  st->dim = dim;
  memcpy(st->th, th0, sizeof(double) * (size_t)dim);
}

static int usable(const nt_eval *e, int dim) {
  if (!e->ok || !isfinite(e->f)) return 0;
  for (int i = 0; i < dim; i++)
    if (!isfinite(e->g[i])) return 0;
  for (int i = 0; i < dim * (dim + 1) / 2; i++)
    if (!isfinite(e->h[i])) return 0;
  return 1;
}

int nt_maximize(const nt_problem *p, nt_state *st) {
  const int dim = p->dim;
  int rc;
  st->status = NT_RUNNING;
  if (!st->have_at) {
    /* a fresh start counts its first evaluation; a resumed one re-makes
       the evaluation its saved point already had */
    if ((rc = p->eval(p->ctx, st->th, &st->at))) return rc;
    if (st->steps == 0 && st->evals == 0) st->evals = 1;
    st->have_at = 1;
    if (!usable(&st->at, dim)) {
      st->status = NT_STALLED;
      return 0;
    }
  }
  for (;;) {
    nt_eval *e = &st->at;
    for (int i = 0; i < dim; i++)
      if (fabs(st->th[i]) >= p->bound) {
        st->status = NT_AT_BOUND;
        return 0;
      }
    double gn = nt_gnorm(e, dim);
    if (gn <= p->tol) {
      st->status = NT_CONVERGED;
      return 0;
    }
    if (st->evals >= p->max_evals) {
      st->status = NT_MAX_EVALS;
      return 0;
    }
    double d[NT_MAX_DIM];
    int newton = nt_newton_dir(e->h, e->g, dim, d) == 0;
    if (!newton) {
      double ghg = 0;
      for (int i = 0; i < dim; i++)
        for (int j = 0; j < dim; j++) ghg += e->g[i] * e->h[ut(i, j, dim)] * e->g[j];
      double t = ghg < 0 ? gn * gn / -ghg : 1 / gn;
      for (int i = 0; i < dim; i++) d[i] = t * e->g[i];
    }
    double big = 0, slope = 0;
    for (int i = 0; i < dim; i++) {
      big = fabs(d[i]) > big ? fabs(d[i]) : big;
      slope += e->g[i] * d[i];
    }
    if (big > p->max_step)
      for (int i = 0; i < dim; i++) d[i] *= p->max_step / big;
    if (big > p->max_step) slope *= p->max_step / big;
    int accepted = 0;
    nt_eval trial;
    double th[NT_MAX_DIM];
    for (double t = 1; t >= 1.0 / 1048576 && st->evals < p->max_evals; t *= 0.5) {
      for (int i = 0; i < dim; i++) {
        th[i] = st->th[i] + t * d[i];
        if (th[i] > p->bound) th[i] = p->bound;
        if (th[i] < -p->bound) th[i] = -p->bound;
      }
      if ((rc = p->eval(p->ctx, th, &trial))) return rc;
      st->evals++;
      if (!usable(&trial, dim)) continue;
      /* Armijo; or, within the rounding of f (its sums cancel to a
         relative 1e-14 or so near a flat maximum), a smaller gradient */
      if ((trial.f >= e->f + 1e-4 * t * slope && trial.f >= e->f) ||
          (trial.f >= e->f - 1e-12 * fabs(e->f) && nt_gnorm(&trial, dim) < gn)) {
        accepted = 1;
        break;
      }
    }
    if (!accepted) {
      st->status = st->evals >= p->max_evals ? NT_MAX_EVALS : NT_STALLED;
      return 0;
    }
    memcpy(st->th, th, sizeof(double) * (size_t)dim);
    st->at = trial;
    st->steps++;
    if (newton) st->newton_steps++;
    else st->gradient_steps++;
    if (p->hook && (rc = p->hook(p->ctx, st))) return rc;
  }
}
