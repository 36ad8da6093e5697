/* test_insights_topk.c: the collective pieces of the insights stage against
 * brute force, at any rank count (registered at 1, 2, 3 and 4 ranks).
 *
 * Every rank can generate the whole data set (values keyed by a global
 * index), so each rank computes the expected answers alone by sorting
 * everything, and checks what the collectives return:
 *   - ins_topk_sums_all: the sum of the k largest values for every k, with
 *     many ties, with all values on one rank, with no values at all;
 *   - ins_recs_exchange_all + ins_recs_top_all: a distributed group-by and
 *     the global top list, with ties broken by key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comm.h"
#include "insights_core.h"

static int failures;
#define EXPECT(cond, ...)            \
  do {                               \
    if (!(cond)) {                   \
      if (failures++ < 10) {         \
        fprintf(stderr, "rank %d: ", comm_rank()); \
        fprintf(stderr, __VA_ARGS__); \
        fputc('\n', stderr);         \
      }                              \
    }                                \
  } while (0)

static int cmp_desc(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? 1 : x > y ? -1 : 0;
}
static int cmp_asc(const void *a, const void *b) { return -cmp_desc(a, b); }

/* value of global item i: few distinct values (ties), some large */
static int64_t value_of(int64_t i, int scenario) {
  uint64_t h = sc_mix64((uint64_t)i * 31 + (uint64_t)scenario);
  if (h % 10 == 0) return (int64_t)(h % 1000000007ULL) * 1000;  /* spread */
  return (int64_t)(h % 13) * 250000;                             /* ties, including 0 */
}

/* scenario 0: spread over ranks; 1: all on the last rank; 2: nothing */
static void check_topk(int scenario, int64_t n) {
  int rank = comm_rank(), size = comm_size();
  if (scenario == 2) n = 0;
  int64_t *all = malloc((size_t)(n + 1) * sizeof *all), *mine = malloc((size_t)(n + 1) * sizeof *mine), m = 0;
  for (int64_t i = 0; i < n; i++) {
    all[i] = value_of(i, scenario);
    int owner = scenario == 1 ? size - 1 : (int)(sc_mix64((uint64_t)i) % (uint64_t)size);
    if (owner == rank) mine[m++] = all[i];
  }
  qsort(all, (size_t)n, sizeof *all, cmp_desc);
  qsort(mine, (size_t)m, sizeof *mine, cmp_asc);
  int nq = (int)n + 1;
  int64_t *ks = malloc((size_t)nq * sizeof *ks), *sums = malloc((size_t)nq * sizeof *sums);
  for (int q = 0; q < nq; q++) ks[q] = n - q; /* every k, largest first */
  sc_status s = ins_topk_sums_all(mine, m, ks, nq, sums);
  EXPECT(s == SC_OK, "scenario %d: ins_topk_sums_all failed: %s", scenario, sc_message());
  int64_t want = 0;
  int64_t *pre = malloc((size_t)(n + 1) * sizeof *pre);
  pre[0] = 0;
  for (int64_t i = 0; i < n; i++) pre[i + 1] = pre[i] + all[i];
  for (int q = 0; q < nq && !s; q++) {
    want = pre[ks[q]];
    EXPECT(sums[q] == want, "scenario %d: top-%lld sum %lld, want %lld", scenario, (long long)ks[q],
           (long long)sums[q], (long long)want);
  }
  /* an out-of-range query is refused on every rank, not a hang */
  int64_t bad = n + 1, out;
  sc_clear();
  EXPECT(ins_topk_sums_all(mine, m, &bad, 1, &out) == SC_EINTERNAL, "scenario %d: k > n accepted", scenario);
  sc_clear();
  free(all);
  free(mine);
  free(ks);
  free(sums);
  free(pre);
}

static int owner_k0(const ins_rec *r, int size, const void *ctx) {
  (void)ctx;
  return (int)(sc_mix64((uint64_t)r->k[0] * 7) % (uint64_t)size);
}

static void check_group_top(void) {
  int rank = comm_rank(), size = comm_size();
  const int64_t n = 20000, keys = 97;
  int64_t want[97] = {0}, lines[97] = {0};
  ins_recs a = {0};
  for (int64_t i = 0; i < n; i++) {
    int64_t key = (int64_t)(sc_mix64((uint64_t)i) % (uint64_t)keys), v = (key % 5) * 100 + 7; /* equal totals */
    want[key] += v;
    lines[key]++;
    if (i % size == rank) ins_recs_push(&a, key, 0, 0, v, 0, 1, 0);
  }
  sc_status s = ins_recs_exchange_all(&a, owner_k0, NULL);
  EXPECT(s == SC_OK, "exchange failed: %s", sc_message());
  int64_t held = 0;
  for (int64_t i = 0; i < a.n; i++) {
    EXPECT(owner_k0(&a.r[i], size, NULL) == rank, "key %lld on the wrong rank", (long long)a.r[i].k[0]);
    EXPECT(a.r[i].v[0] == want[a.r[i].k[0]] && a.r[i].v[2] == lines[a.r[i].k[0]], "key %lld merged wrong",
           (long long)a.r[i].k[0]);
    held++;
  }
  EXPECT(comm_sum1_i64(held) == keys, "%lld keys in all, want %lld", (long long)comm_sum1_i64(held), (long long)keys);
  ins_rec *top = NULL;
  int64_t nt = 0;
  s = ins_recs_top_all(&a, 10, &top, &nt);
  EXPECT(s == SC_OK && nt == 10, "top list: %lld entries", (long long)nt);
  /* brute force: value descending, key ascending */
  int64_t order[97];
  for (int64_t k = 0; k < keys; k++) order[k] = k;
  for (int64_t i = 0; i < keys; i++)
    for (int64_t j = i + 1; j < keys; j++)
      if (want[order[j]] > want[order[i]] || (want[order[j]] == want[order[i]] && order[j] < order[i])) {
        int64_t t = order[i];
        order[i] = order[j];
        order[j] = t;
      }
  for (int64_t i = 0; i < nt; i++)
    EXPECT(top[i].k[0] == order[i] && top[i].v[0] == want[order[i]], "top[%lld] is key %lld, want %lld",
           (long long)i, (long long)top[i].k[0], (long long)order[i]);
  free(top);
  ins_recs_free(&a);
}

int main(int argc, char **argv) {
  if (comm_init(&argc, &argv)) return 1;
  for (int sc = 0; sc < 3; sc++) check_topk(sc, 2000 + 37 * comm_size());
  check_group_top();
  int64_t bad = comm_sum1_i64(failures);
  if (comm_rank() == 0) printf("test_insights_topk: %d ranks, %s\n", comm_size(), bad ? "FAILED" : "ok");
  comm_finalize();
  return bad ? 1 : 0;
}
