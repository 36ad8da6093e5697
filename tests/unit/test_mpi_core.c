/* test_mpi_core.c: the collective core at any rank count (run at 1, 2, 4).
 *
 * - table_exchange moves every row to its destination, keeping columns
 *   together and source order, and leaves a rank's columns in place when
 *   nothing leaves or arrives there;
 * - h5_write_table / h5_read_table round-trip a table where some ranks
 *   hold no rows (the parallel HDF5 trap of empty selections), with
 *   sentinel integers and decimal doubles bit for bit (stored packed);
 * - compressed columns whose chunks span ranks unevenly (chunk owners),
 *   coded by segcast's scale-offset coder and read back by HDF5's own;
 * - dict_globalize gives the same ids everywhere whatever each rank saw;
 * - comm_agree carries a failing rank's message to rank 0;
 * - counts past 2^31: sums and prefix sums of 3e9 rows a rank are exact,
 *   and an exchange of more than 2^31 elements is refused on every rank
 *   with a clear message (MPI's counts are int), never a wrapped count.
 * Prints "N passed, M failed" from rank 0 and exits non-zero on failure.
 */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comm.h"
#include "dict.h"
#include "h5.h"
#include "table.h"

static int passed, failed;
#define CHECK(cond)                                                              \
  do {                                                                           \
    int ok_ = comm_min1_i64((cond) ? 1 : 0);                                     \
    if (ok_) passed++;                                                           \
    else {                                                                       \
      failed++;                                                                  \
      if (comm_rank() == 0) printf("FAILED %s:%d: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                            \
  } while (0)

static void test_exchange(void) {
  int rank = comm_rank(), size = comm_size();
  sc_table t;
  table_init(&t, "t", "id:i64,src:i32,x:f64,b:u8");
  int64_t n = rank == 1 ? 0 : 1000 + 37 * rank; /* rank 1 sends nothing */
  table_resize(&t, n);
  int32_t *dest = malloc(sizeof(int32_t) * (size_t)(n + 1));
  for (int64_t i = 0; i < n; i++) {
    int64_t id = rank * 1000000 + i;
    table_i64(&t, "id")[i] = id;
    table_i32(&t, "src")[i] = rank;
    table_f64(&t, "x")[i] = (double)id * 0.25;
    table_u8(&t, "b")[i] = (uint8_t)(id % 251);
    dest[i] = (int32_t)(sc_mix64((uint64_t)id) % (uint64_t)size);
  }
  int64_t before = comm_sum1_i64(n);
  CHECK(table_exchange(&t, dest) == SC_OK);
  int ok = 1;
  for (int64_t i = 0; i < t.n; i++) {
    int64_t id = table_i64(&t, "id")[i];
    if ((int32_t)(sc_mix64((uint64_t)id) % (uint64_t)size) != rank) ok = 0;
    if (table_f64(&t, "x")[i] != (double)id * 0.25 || table_u8(&t, "b")[i] != (uint8_t)(id % 251)) ok = 0;
    if (table_i32(&t, "src")[i] != (int32_t)(id / 1000000)) ok = 0;
    if (i && id <= table_i64(&t, "id")[i - 1]) ok = 0; /* source rank order, then source order */
  }
  CHECK(ok);
  CHECK(comm_sum1_i64(t.n) == before);
  free(dest);
  table_free(&t);
}

/* Rank 0 keeps all its rows and receives none (its columns stay where
 * they are) while the other ranks trade theirs among themselves. */
static void test_exchange_still(void) {
  int rank = comm_rank(), size = comm_size();
  sc_table t;
  table_init(&t, "t", "id:i64,v:i32");
  int64_t n = 500 + 11 * rank;
  table_resize(&t, n);
  int32_t *dest = malloc(sizeof(int32_t) * (size_t)(n + 1));
  for (int64_t i = 0; i < n; i++) {
    int64_t id = rank * 1000000 + i;
    table_i64(&t, "id")[i] = id;
    table_i32(&t, "v")[i] = (int32_t)(7 * i + rank);
    dest[i] = rank == 0 || size < 2 ? 0 : 1 + (int32_t)(sc_mix64((uint64_t)id) % (uint64_t)(size - 1));
  }
  const void *kept = rank == 0 ? table_i64(&t, "id") : NULL;
  CHECK(table_exchange(&t, dest) == SC_OK);
  int ok = 1;
  if (rank == 0) ok = t.n == n && table_i64(&t, "id") == kept; /* no copy */
  for (int64_t i = 0; i < t.n; i++) {
    int64_t id = table_i64(&t, "id")[i], src = id / 1000000, at = id % 1000000;
    if (table_i32(&t, "v")[i] != (int32_t)(7 * at + src)) ok = 0;
    if ((src == 0) != (rank == 0)) ok = 0;
    if (i && id <= table_i64(&t, "id")[i - 1]) ok = 0;
  }
  CHECK(ok);
  CHECK(comm_sum1_i64(t.n) == comm_sum1_i64(n));
  free(dest);
  table_free(&t);
}

#define Z_OF(g) ((g) == 0 ? 7.0 : (g) % 2 ? 1.25 : (double)(g) / 1000)

static void test_h5_roundtrip(const char *path) {
  int rank = comm_rank(), size = comm_size();
  sc_table t;
  table_init(&t, "t", "id:i64,v:i32,x:f64,e:i64,s:i32,y:f64,z:f64");
  int64_t n = (rank % 2 == 1) ? 0 : 5 + rank; /* odd ranks empty */
  table_resize(&t, n);
  int64_t off = comm_exscan_i64(n);
  for (int64_t i = 0; i < n; i++) {
    table_i64(&t, "id")[i] = off + i;
    table_i32(&t, "v")[i] = (int32_t)(3 * (off + i));
    table_f64(&t, "x")[i] = 0.5 * (double)(off + i);
    /* full-range integers (missing-value sentinels) survive the packing */
    table_i64(&t, "e")[i] = (off + i) % 3 == 0 ? INT64_MIN : (off + i) % 3 == 1 ? INT64_MAX : off + i;
    table_i32(&t, "s")[i] = (off + i) % 2 ? INT32_MIN : INT32_MAX;
    /* y: decimals but for a -0.0 and a third on one rank: stored as doubles;
     * z: 3 places on some rows, 2 on others, none on the first: stored as
     * thousandths */
    table_f64(&t, "y")[i] = off + i == 3 ? -0.0 : off + i == 4 ? 1.0 / 3.0 : (double)(off + i) / 100;
    table_f64(&t, "z")[i] = Z_OF(off + i);
  }
  int64_t total = comm_sum1_i64(n);
  sc_h5 f;
  CHECK(h5_create(&f, path) == SC_OK);
  CHECK(h5_write_table(&f, "/plain", &t) == SC_OK); /* doubles stay doubles */
  f.pack_decimals = 1;
  CHECK(h5_write_table(&f, "/g/t", &t) == SC_OK);
  /* the same table from three threads: each finds its rows' decimal places
   * (z: 0 on the first row, 3 or 2 on others) and the rows packed at fewer
   * are packed again at the most; one rank also codes chunks on threads */
  omp_set_num_threads(3);
  CHECK(h5_write_table(&f, "/g/t3", &t) == SC_OK);
  omp_set_num_threads(1);
  sc_table empty;
  table_init(&empty, "e", "a:i64");
  CHECK(h5_write_table(&f, "/g/empty", &empty) == SC_OK);
  char *names[3] = {"alpha", "", "gamma"};
  CHECK(h5_write_strings(&f, "/s", names, 3) == SC_OK);
  double m[6] = {1, 2, 3, 4, 5, 6};
  CHECK(h5_write_f64(&f, "/m", m, 2, 3) == SC_OK);
  CHECK(h5_set_attr_str(&f, "/", "note", "hello") == SC_OK);
  CHECK(h5_close(&f) == SC_OK);

  CHECK(h5_open(&f, path, 0) == SC_OK);
  sc_table r;
  int64_t got_total = -1;
  CHECK(h5_read_table(&f, "/g/t", &r, &got_total) == SC_OK);
  CHECK(got_total == total);
  int64_t lo = total * rank / size;
  int ok = r.n == total * (rank + 1) / size - lo;
  for (int64_t i = 0; ok && i < r.n; i++)
    ok = table_i64(&r, "id")[i] == lo + i && table_i32(&r, "v")[i] == 3 * (lo + i) &&
         table_f64(&r, "x")[i] == 0.5 * (double)(lo + i) &&
         table_i64(&r, "e")[i] == ((lo + i) % 3 == 0 ? INT64_MIN : (lo + i) % 3 == 1 ? INT64_MAX : lo + i) &&
         table_i32(&r, "s")[i] == ((lo + i) % 2 ? INT32_MIN : INT32_MAX);
  CHECK(ok);
  ok = 1;
  for (int64_t i = 0; ok && i < r.n; i++) {
    double y = table_f64(&r, "y")[i], z = table_f64(&r, "z")[i];
    int64_t g = lo + i;
    ok = (g == 3 ? y == 0.0 && signbit(y) : g == 4 ? y == 1.0 / 3.0 : y == (double)g / 100) &&
         z == Z_OF(g);
  }
  CHECK(ok);
  sc_table r3;
  CHECK(h5_read_table(&f, "/g/t3", &r3, NULL) == SC_OK);
  ok = r3.n == r.n && r3.ncols == r.ncols;
  for (int c = 0; ok && c < r.ncols; c++)
    ok = !memcmp(r3.cols[c].data, r.cols[c].data, (size_t)r.n * coltype_size(r.cols[c].type));
  CHECK(ok);
  table_free(&r3);
  /* the encodings chosen: x in halves (1 place), z in thousandths, y as doubles */
  int64_t k = -1;
  CHECK(h5_get_attr_i64(&f, "/g/t3/z", "decimals", &k) == SC_OK && k == 3);
  CHECK(h5_get_attr_i64(&f, "/g/t/x", "decimals", &k) == SC_OK && k == 1);
  CHECK(h5_get_attr_i64(&f, "/g/t/z", "decimals", &k) == SC_OK && k == 3);
  CHECK(!h5_has_attr(&f, "/g/t/y", "decimals"));
  CHECK(!h5_has_attr(&f, "/plain/x", "decimals"));
  sc_table pl;
  CHECK(h5_read_table(&f, "/plain", &pl, NULL) == SC_OK);
  ok = pl.n == r.n;
  for (int64_t i = 0; ok && i < r.n; i++) ok = table_f64(&pl, "z")[i] == table_f64(&r, "z")[i];
  CHECK(ok);
  table_free(&pl);
  sc_table re;
  CHECK(h5_read_table(&f, "/g/empty", &re, &got_total) == SC_OK);
  CHECK(got_total == 0 && re.n == 0);
  char **s = NULL;
  int64_t ns = 0;
  CHECK(h5_read_strings(&f, "/s", &s, &ns) == SC_OK);
  CHECK(ns == 3 && !strcmp(s[0], "alpha") && !strcmp(s[1], "") && !strcmp(s[2], "gamma"));
  double *mm = NULL;
  int64_t rows = 0, cols = 0;
  CHECK(h5_read_f64(&f, "/m", &mm, &rows, &cols) == SC_OK);
  CHECK(rows == 2 && cols == 3 && mm[5] == 6.0);
  char note[16];
  CHECK(h5_get_attr_str(&f, "/", "note", note, sizeof note) == SC_OK && !strcmp(note, "hello"));
  CHECK(h5_close(&f) == SC_OK);
  for (int64_t i = 0; i < ns; i++) free(s[i]);
  free(s);
  free(mm);
  table_free(&t);
  table_free(&r);
  table_free(&re);
  table_free(&empty);
}

static void test_dict_globalize(void) {
  int rank = comm_rank();
  sc_dict d;
  dict_init(&d);
  int64_t id;
  /* each rank sees a different subset, in a different order */
  const char *words[] = {"pear", "apple", "fig", "kiwi", "date", "plum"};
  for (int i = 0; i < 6; i++)
    if ((i + rank) % 3 != 0) dict_intern(&d, words[(i + rank) % 6], strlen(words[(i + rank) % 6]), &id);
  int64_t *remap = NULL;
  int64_t nlocal = d.n;
  char *local[6];
  for (int64_t i = 0; i < nlocal; i++) local[i] = strdup(d.str[i]);
  CHECK(dict_globalize(&d, &remap) == SC_OK);
  int ok = 1;
  for (int i = 1; i < d.n; i++) ok &= strcmp(d.str[i - 1], d.str[i]) < 0; /* sorted, unique */
  for (int64_t i = 0; i < nlocal; i++) ok &= !strcmp(d.str[remap[i]], local[i]);
  CHECK(ok);
  int64_t n = d.n, mx = comm_max1_i64(n);
  CHECK(n == mx);
  for (int64_t i = 0; i < nlocal; i++) free(local[i]);
  free(remap);
  dict_free(&d);
}

static void test_agree(void) {
  int size = comm_size();
  sc_clear();
  sc_status local = comm_rank() == size - 1 ? sc_fail(SC_EINPUT, "rank %d says no", size - 1) : SC_OK;
  sc_status g = comm_agree(local);
  CHECK(g == SC_EINPUT);
  if (comm_rank() == 0) {
    char want[32];
    snprintf(want, sizeof want, "rank %d says no", size - 1);
    CHECK(!strcmp(sc_message(), want));
  } else {
    CHECK(1);
  }
  sc_clear();
  CHECK(comm_agree(SC_OK) == SC_OK);
}

static void test_counts_past_2_31(void) {
  int rank = comm_rank(), size = comm_size();
  int64_t mine = 3000000000LL + rank;
  CHECK(comm_sum1_i64(mine) == 3000000000LL * size + (int64_t)size * (size - 1) / 2);
  CHECK(comm_exscan_i64(mine) == 3000000000LL * rank + (int64_t)rank * (rank - 1) / 2);
  CHECK(comm_max1_i64(mine) == 3000000000LL + size - 1);
  /* the last rank would send 2^31 elements to rank 0: every rank refuses
   * before any data moves (the buffers are never touched) */
  int64_t *c = calloc((size_t)size * 4, sizeof *c);
  if (rank == size - 1) c[0] = (int64_t)1 << 31;
  sc_clear();
  sc_status st = comm_alltoallv_into(NULL, c, c + size, NULL, c + 2 * size, c + 3 * size, 8);
  CHECK(st != SC_OK);
  CHECK(rank != size - 1 || strstr(sc_message(), "more than 2^31 elements") != NULL);
  sc_clear();
  free(c);
}

/* Compressed columns in chunks of 7 rows over uneven rank blocks: a chunk
 * begun on one rank and finished on others (up to all four), ranks with no
 * rows and ranks inside one chunk; every row comes back in place. Each
 * shape twice: with room past the rows (rows received for a rank's last
 * chunk go after its own) and without (they go to a copy). */
static void test_h5_chunk_owners(const char *path) {
  CHECK(h5_fast_scaleoffset(1) == 1);
  static const int64_t shapes[2][4] = {{3, 20, 0, 9}, {3, 2, 1, 9}};
  int rank = comm_rank();
  sc_h5 f;
  CHECK(h5_create(&f, path) == SC_OK);
  f.chunk_rows = 7;
  f.pack_decimals = 1;
  for (int k = 0; k < 4; k++) {
    sc_table t;
    table_init(&t, "c", "k:i64,w:i32,d:f64,b:u8");
    int64_t n = shapes[k % 2][rank % 4];
    table_resize(&t, n);
    if (k >= 2) t.cap = t.n; /* no room (the memory is still all there) */
    int64_t off = comm_exscan_i64(n);
    for (int64_t i = 0; i < n; i++) {
      int64_t g = off + i;
      table_i64(&t, "k")[i] = g * 1000003 + 17;
      table_i32(&t, "w")[i] = g % 5 == 0 ? INT32_MIN : (int32_t)(g * g);
      table_f64(&t, "d")[i] = (double)g / 4;
      table_u8(&t, "b")[i] = (uint8_t)(g * 7);
    }
    char group[16];
    snprintf(group, sizeof group, "/c%d", k);
    CHECK(h5_write_table(&f, group, &t) == SC_OK);
    table_free(&t);
  }
  CHECK(h5_close(&f) == SC_OK);
  /* written with segcast's integer coder; read with HDF5's own, then ours */
  for (int coder = 0; coder < 2; coder++) {
    CHECK(h5_fast_scaleoffset(coder) == coder);
    CHECK(h5_open(&f, path, 0) == SC_OK);
    for (int k = 0; k < 4; k++) {
      char group[16];
      snprintf(group, sizeof group, "/c%d", k);
      sc_table r;
      int64_t total = 0;
      CHECK(h5_read_table(&f, group, &r, &total) == SC_OK);
      int64_t want = 0;
      for (int q = 0; q < comm_size(); q++) want += shapes[k % 2][q % 4];
      int64_t lo = total * rank / comm_size();
      int ok = total == want;
      for (int64_t i = 0; ok && i < r.n; i++) {
        int64_t g = lo + i;
        ok = table_i64(&r, "k")[i] == g * 1000003 + 17 &&
             table_i32(&r, "w")[i] == (g % 5 == 0 ? INT32_MIN : (int32_t)(g * g)) &&
             table_f64(&r, "d")[i] == (double)g / 4 && table_u8(&r, "b")[i] == (uint8_t)(g * 7);
      }
      CHECK(ok);
      table_free(&r);
    }
    CHECK(h5_close(&f) == SC_OK);
  }
}

int main(int argc, char **argv) {
  comm_init(&argc, &argv);
  char path[256];
  snprintf(path, sizeof path, "%s/segcast_test_mpi_core_%d.h5", argc > 1 ? argv[1] : "/tmp", comm_size());
  test_exchange();
  test_exchange_still();
  test_h5_roundtrip(path);
  test_h5_chunk_owners(path);
  test_dict_globalize();
  test_agree();
  test_counts_past_2_31();
  if (comm_rank() == 0) {
    remove(path);
    printf("%d passed, %d failed\n", passed, failed);
  }
  comm_finalize();
  return failed ? 1 : 0;
}
