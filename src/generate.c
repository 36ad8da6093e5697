/* generate.c: `segcast generate`, the synthetic marketplace data set.
 *
 * Splits the work and writes the files; the data itself comes from the
 * model in generate_model.c. Rank r builds the model tables of the days
 * [r*365/size, (r+1)*365/size) and gathers the others' (the tables are pure
 * functions of their keys, so who builds a day does not matter), then makes
 * users [r*N/size, (r+1)*N/size) and the inventory rows of its days; rank 0 also makes
 * network.csv and skus.csv and every header. Within a rank, OpenMP threads
 * take chunks of users (or days) into per-chunk buffers that are written in
 * chunk order, so neither the thread count nor the rank count changes a
 * byte: every random draw is keyed by (seed, entity id, purpose).
 *
 * Each file is written collectively under "<name>.tmp", rank r's bytes
 * after those of ranks 0..r-1, straight from the chunks
 * (comm_write_ordered_pieces in comm_generate.h, so the text is never
 * copied into one buffer). Once all eight are complete, rank 0 renames
 * them into place, so a failed run never leaves a finished-looking data set
 * behind. Memory: a rank holds its share of the users' CSV text (about
 * 0.9 GB per million users at one rank) and the model tables (about 50 MB
 * per 1,000 skus).
 */
#include <errno.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "comm.h"
#include "comm_generate.h"
#include "generate_model.h"
#include "stages.h"

#define GEN_CHUNK_USERS 1024

static const char *gen_usage =
    "usage: segcast generate --layout marketplace --out DIR --users N [--seed S]\n"
    "  --layout marketplace  the multi-table layout of DATA.md 1a (the only one generated)\n"
    "  --out DIR             folder for users, orders, clicks, delivery, inventory, network\n"
    "                        and skus .csv, plus truth.csv (each user's true churn date, not an\n"
    "                        input); created when missing, existing files are replaced\n"
    "  --users N             number of users (1,000,000 makes about 1 GB)\n"
    "  --seed S              seed, 0 .. 2^64-1 (default 42); the same seed and N give the\n"
    "                        same bytes at any rank and thread count\n"
    "The generative model is described in docs/generator.md.\n";

/* Parses a whole decimal number in [lo, hi]. */
static sc_status parse_count(const char *opt, const char *text, uint64_t lo, uint64_t hi, uint64_t *out) {
  uint64_t v = 0;
  const char *p = text;
  if (!*p) return sc_fail(SC_EUSAGE, "generate: %s needs a whole number, got an empty value", opt);
  for (; *p; p++) {
    if (*p < '0' || *p > '9')
      return sc_fail(SC_EUSAGE, "generate: %s needs a whole number, got '%s'", opt, text);
    unsigned dgt = (unsigned)(*p - '0');
    if (v > (UINT64_MAX - dgt) / 10) return sc_fail(SC_EUSAGE, "generate: %s '%s' is too large", opt, text);
    v = v * 10 + dgt;
  }
  if (v < lo || v > hi)
    return sc_fail(SC_EUSAGE, "generate: %s must be between %llu and %llu, got %s", opt, (unsigned long long)lo,
                   (unsigned long long)hi, text);
  *out = v;
  return SC_OK;
}

static sc_status parse_args(int argc, char **argv, const char **out, uint64_t *users, uint64_t *seed, int *help) {
  const char *layout = "marketplace";
  int have_users = 0;
  *out = NULL;
  *seed = 42;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      *help = 1;
      return SC_OK;
    }
    int takes = !strcmp(a, "--layout") || !strcmp(a, "--out") || !strcmp(a, "--users") || !strcmp(a, "--seed");
    if (!takes) return sc_fail(SC_EUSAGE, "generate: unexpected argument '%s' (see segcast generate --help)", a);
    if (i + 1 >= argc) return sc_fail(SC_EUSAGE, "generate: %s needs a value (see segcast generate --help)", a);
    const char *v = argv[++i];
    if (!strcmp(a, "--layout")) layout = v;
    else if (!strcmp(a, "--out")) *out = v;
    else if (!strcmp(a, "--users")) {
      /* order ids are user_id x 1000 + n: keep them inside int64 */
      SC_TRY(parse_count(a, v, 1, 1000000000000ULL, users));
      have_users = 1;
    } else SC_TRY(parse_count(a, v, 0, UINT64_MAX, seed));
  }
  if (strcmp(layout, "marketplace"))
    return sc_fail(SC_EUSAGE, "generate: layout '%s' cannot be generated; use --layout marketplace", layout);
  if (!*out || !**out) return sc_fail(SC_EUSAGE, "generate: --out DIR is required (see segcast generate --help)");
  if (strlen(*out) > SC_PATH_MAX - 32) return sc_fail(SC_EUSAGE, "generate: --out path is too long");
  if (!have_users) return sc_fail(SC_EUSAGE, "generate: --users N is required (see segcast generate --help)");
  return SC_OK;
}

sc_status cmd_generate(int argc, char **argv) {
  const char *out;
  uint64_t users = 0, seed = 42;
  int help = 0;
  SC_TRY(comm_agree(parse_args(argc, argv, &out, &users, &seed, &help)));
  if (help) {
    if (comm_rank() == 0) fputs(gen_usage, stdout);
    return SC_OK;
  }
  return generate_marketplace(out, (int64_t)users, seed);
}

/* This rank's users.csv, orders.csv, clicks.csv, delivery.csv and
 * truth.csv bodies as chunks of GEN_CHUNK_USERS users: chunk i's k-th is
 * (*bufs)[i * GEN_USER_BUFS + k]. */
#define GEN_USER_BUFS 5
static sc_status make_users(const gen_model *m, int64_t u0, int64_t u1, gen_buf **bufs, int64_t *n_chunks) {
  int64_t nch = (u1 - u0 + GEN_CHUNK_USERS - 1) / GEN_CHUNK_USERS;
  *n_chunks = nch;
  *bufs = calloc((size_t)SC_MAX(nch, 1) * GEN_USER_BUFS, sizeof(gen_buf));
  if (!*bufs) return sc_fail(SC_ENOMEM, "generate: out of memory");
  int failed = 0;
#pragma omp parallel
  {
    gen_scratch *scr = gen_scratch_new();
    if (!scr) {
#pragma omp atomic write
      failed = 1;
    }
#pragma omp for schedule(dynamic, 1)
    for (int64_t ch = 0; ch < nch; ch++) {
      gen_buf *b = *bufs + (size_t)ch * GEN_USER_BUFS;
      int64_t lo = u0 + ch * GEN_CHUNK_USERS, hi = SC_MIN(u1, lo + GEN_CHUNK_USERS);
      for (int64_t u = lo; u < hi && scr; u++)
        if (gen_user(m, scr, u + 1, &b[0], &b[1], &b[2], &b[3], &b[4])) {
#pragma omp atomic write
          failed = 1;
          break;
        }
    }
    gen_scratch_free(scr);
  }
  if (failed) return sc_fail(SC_ENOMEM, "generate: out of memory generating users %lld..%lld; use more ranks",
                             (long long)u0 + 1, (long long)u1);
  return SC_OK;
}

/* This rank's inventory rows, days [d0, d1), one chunk per day. */
static sc_status make_inventory(const gen_model *m, int d0, int d1, gen_buf **days) {
  int nd = d1 - d0;
  *days = calloc((size_t)SC_MAX(nd, 1), sizeof(gen_buf));
  if (!*days) return sc_fail(SC_ENOMEM, "generate: out of memory");
  int failed = 0;
#pragma omp parallel for schedule(dynamic, 1)
  for (int i = 0; i < nd; i++)
    if (gen_inventory(m, d0 + i, d0 + i + 1, &(*days)[i])) {
#pragma omp atomic write
      failed = 1;
    }
  return failed ? sc_fail(SC_ENOMEM, "generate: out of memory writing inventory rows") : SC_OK;
}

static void tmp_name(char *buf, const char *dir, const char *file) {
  snprintf(buf, SC_PATH_MAX, "%s/%s.tmp", dir, file);
}

/* Writes file f under its temporary name from every rank's chunks
 * bufs[0], bufs[stride], ... (n of them), after the header on rank 0; adds
 * this rank's bytes to bytes[f] and frees the chunks. Collective. */
static sc_status write_chunks(const char *dir, int f, gen_buf *bufs, int64_t n, size_t stride, int64_t *bytes) {
  const char **pieces = malloc(sizeof(char *) * (size_t)(n + 1));
  size_t *lens = malloc(sizeof(size_t) * (size_t)(n + 1));
  sc_status s = comm_agree(pieces && lens ? SC_OK : sc_fail(SC_ENOMEM, "generate: out of memory"));
  if (!s) {
    int64_t k = 0;
    if (comm_rank() == 0) {
      pieces[k] = gen_headers[f];
      lens[k++] = strlen(gen_headers[f]);
    }
    for (int64_t i = 0; i < n; i++) {
      pieces[k] = bufs[(size_t)i * stride].p;
      lens[k++] = bufs[(size_t)i * stride].n;
    }
    for (int64_t i = 0; i < k; i++) bytes[f] += (int64_t)lens[i];
    char tmp[SC_PATH_MAX];
    tmp_name(tmp, dir, gen_files[f]);
    s = comm_write_ordered_pieces(tmp, pieces, lens, k);
  }
  for (int64_t i = 0; i < n; i++) gen_buf_free(&bufs[(size_t)i * stride]);
  free(pieces);
  free(lens);
  return s;
}

/* Every rank built the tables of its days [r*365/size, (r+1)*365/size);
 * the days are gathered in place, so every rank ends with all of them. */
static sc_status share_tables(gen_model *m) {
  void *tables[4];
  size_t day_bytes[4];
  gen_model_tables(m, tables, day_bytes);
  for (int i = 0; i < 4; i++) SC_TRY(comm_allgather_rows(tables[i], GEN_DAYS, day_bytes[i]));
  return SC_OK;
}

/* Renames the temporaries into place (rank 0), or removes them. */
static sc_status commit_files(const char *out, sc_status s) {
  char tmp[SC_PATH_MAX], fin[SC_PATH_MAX];
  if (!s) {
    sc_status ls = SC_OK;
    for (int f = 0; f < GEN_NFILES && comm_rank() == 0 && !ls; f++) {
      tmp_name(tmp, out, gen_files[f]);
      snprintf(fin, sizeof fin, "%s/%s", out, gen_files[f]);
      if (rename(tmp, fin)) ls = sc_fail(SC_EIO, "generate: cannot rename %s to %s: %s", tmp, fin, strerror(errno));
    }
    s = comm_agree(ls);
  }
  if (s && comm_rank() == 0)
    for (int f = 0; f < GEN_NFILES; f++) {
      tmp_name(tmp, out, gen_files[f]);
      unlink(tmp);
    }
  return s;
}

sc_status generate_marketplace(const char *out, int64_t users, uint64_t seed) {
  int rank = comm_rank(), size = comm_size();
  double t0 = sc_now();
  if (users < 1) return comm_agree(sc_fail(SC_EUSAGE, "generate: the number of users must be at least 1"));
  SC_TRY(comm_agree(rank == 0 ? sc_mkdirs(out) : SC_OK));
  /* users <= 10^12 and rank counts far below 2^20 keep these products in int64 */
  int64_t u0 = users * rank / size, u1 = users * (rank + 1) / size;
  int d0 = GEN_DAYS * rank / size, d1 = GEN_DAYS * (rank + 1) / size;
  gen_model m;
  SC_TRY(comm_agree(gen_model_init(&m, users, seed)));
  sc_status s = comm_agree(gen_model_build_days(&m, d0, d1));
  if (!s) s = comm_agree(share_tables(&m));
  if (s) {
    gen_model_free(&m);
    return s;
  }
  sc_say("generate: %lld users, %d skus, %d DCs in %d regions, %d days; model tables in %.2f s", (long long)users,
         m.n_sku, GEN_DCS, GEN_REGIONS, GEN_DAYS, sc_now() - t0);

  gen_buf *chunks = NULL;
  int64_t nch = 0, bytes[GEN_NFILES] = {0};
  s = comm_agree(make_users(&m, u0, u1, &chunks, &nch));
  double t_users = sc_now();
  /* users, orders, clicks, delivery, truth; write_chunks frees what it wrote */
  for (int f = 0; f < 4 && !s; f++) s = write_chunks(out, f, chunks + f, nch, GEN_USER_BUFS, bytes);
  if (!s) s = write_chunks(out, 7, chunks + 4, nch, GEN_USER_BUFS, bytes);
  for (int64_t i = 0; chunks && i < nch * GEN_USER_BUFS; i++) gen_buf_free(&chunks[i]);
  free(chunks);
  /* inventory, split by days; network and skus from rank 0 */
  if (!s) {
    gen_buf *days = NULL;
    s = comm_agree(make_inventory(&m, d0, d1, &days));
    if (!s) s = write_chunks(out, 4, days, d1 - d0, 1, bytes);
    for (int i = 0; days && i < d1 - d0; i++) gen_buf_free(&days[i]);
    free(days);
  }
  for (int f = 5; f < 7 && !s; f++) {
    gen_buf body = {0};
    int failed = rank == 0 && (f == 5 ? gen_network(&body) : gen_skus(&m, &body));
    s = comm_agree(failed ? sc_fail(SC_ENOMEM, "generate: out of memory") : SC_OK);
    if (!s) s = write_chunks(out, f, &body, rank == 0, 1, bytes);
    gen_buf_free(&body);
  }
  gen_model_free(&m);
  SC_TRY(commit_files(out, s));

  comm_sum_i64(bytes, GEN_NFILES);
  int64_t total = 0;
  for (int f = 0; f < GEN_NFILES; f++) total += bytes[f];
  double t = sc_now() - t0;
  sc_say("generate: %.1f MB in %.2f s (users %.2f s, %.0f MB/s) into %s: users %.1f, orders %.1f, clicks %.1f, "
         "delivery %.1f, inventory %.1f MB",
         total / 1e6, t, t_users - t0, total / 1e6 / t, out, bytes[0] / 1e6, bytes[1] / 1e6, bytes[2] / 1e6,
         bytes[3] / 1e6, bytes[4] / 1e6);
  return SC_OK;
}
