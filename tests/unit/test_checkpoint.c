/* test_checkpoint.c: unit tests of src/checkpoint.c at one rank.
 *
 * The state container (copies, replacement, shapes, bad names, missing
 * arrays), the state hash, the configuration key (which keys change it),
 * the signal handlers (SIGUSR1 recorded; SIGTERM outside a stage still
 * kills, checked in a forked child), checkpoint_due (signal, clock), and a
 * save / load round trip whose file is also read back with the HDF5 C API
 * directly, independently of h5.c. MPI runs as a singleton (comm_init
 * without mpirun) for the suite that needs it; the multi-rank behaviour is
 * tested by tests/e2e/test_checkpoint_resume.sh.
 */
#include <CUnit/CUnit.h>
#include <hdf5.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "checkpoint.h"
#include "comm.h"

static void test_state_put_get(void) {
  checkpoint_state s;
  checkpoint_state_init(&s, "segment", 42);
  double c[6] = {1.5, -2.25, 3, 4, 5, 6e300};
  int64_t v[3] = {7, -8, INT64_MAX};
  CU_ASSERT_EQUAL(checkpoint_put_f64(&s, "centroids", c, 2, 3), SC_OK);
  CU_ASSERT_EQUAL(checkpoint_put_i64(&s, "done", v, 3), SC_OK);
  c[0] = 99; /* the state holds a copy */
  const double *gc;
  const int64_t *gv;
  int64_t r = 0, k = 0, n = 0;
  CU_ASSERT_EQUAL(checkpoint_get_f64(&s, "centroids", &gc, &r, &k), SC_OK);
  CU_ASSERT_EQUAL(r, 2);
  CU_ASSERT_EQUAL(k, 3);
  CU_ASSERT_EQUAL(gc[0], 1.5);
  CU_ASSERT_EQUAL(gc[5], 6e300);
  CU_ASSERT_EQUAL(checkpoint_get_i64(&s, "done", &gv, &n), SC_OK);
  CU_ASSERT_EQUAL(n, 3);
  CU_ASSERT_EQUAL(gv[2], INT64_MAX);
  /* replacing keeps one array of that name, with the new shape */
  double d[2] = {8, 9};
  CU_ASSERT_EQUAL(checkpoint_put_f64(&s, "centroids", d, 1, 2), SC_OK);
  CU_ASSERT_EQUAL(s.n, 2);
  CU_ASSERT_EQUAL(checkpoint_get_f64(&s, "centroids", &gc, &r, &k), SC_OK);
  CU_ASSERT(r == 1 && k == 2 && gc[1] == 9);
  /* empty arrays are fine */
  CU_ASSERT_EQUAL(checkpoint_put_i64(&s, "empty", NULL, 0), SC_OK);
  CU_ASSERT_EQUAL(checkpoint_get_i64(&s, "empty", &gv, &n), SC_OK);
  CU_ASSERT_EQUAL(n, 0);
  /* missing, wrong type, bad names */
  sc_clear();
  CU_ASSERT_EQUAL(checkpoint_get_f64(&s, "nope", &gc, &r, &k), SC_ESTORE);
  CU_ASSERT_PTR_NOT_NULL(strstr(sc_message(), "stage segment has no double array 'nope'"));
  sc_clear();
  CU_ASSERT_EQUAL(checkpoint_get_f64(&s, "done", &gc, &r, &k), SC_ESTORE);
  sc_clear();
  CU_ASSERT_EQUAL(checkpoint_put_f64(&s, "a/b", d, 1, 2), SC_EINTERNAL);
  sc_clear();
  CU_ASSERT_EQUAL(checkpoint_put_f64(&s, "", d, 1, 2), SC_EINTERNAL);
  sc_clear();
  char longname[80];
  memset(longname, 'x', 64);
  longname[64] = 0;
  CU_ASSERT_EQUAL(checkpoint_put_f64(&s, longname, d, 1, 2), SC_EINTERNAL);
  sc_clear();
  CU_ASSERT_EQUAL(checkpoint_put_f64(&s, "neg", d, -1, 2), SC_EINTERNAL);
  sc_clear();
  checkpoint_state_free(&s);
  CU_ASSERT_EQUAL(s.n, 0);
}

static void test_state_hash(void) {
  checkpoint_state a, b;
  double c[3] = {1, 2, 3};
  checkpoint_state_init(&a, "forecast", 1);
  checkpoint_state_init(&b, "forecast", 1);
  checkpoint_put_f64(&a, "x", c, 3, 1);
  checkpoint_put_f64(&b, "x", c, 3, 1);
  uint64_t h = checkpoint_state_hash(&a);
  CU_ASSERT_EQUAL(h, checkpoint_state_hash(&b));
  b.step = 1;
  CU_ASSERT_NOT_EQUAL(h, checkpoint_state_hash(&b));
  b.step = 0;
  b.key = 2;
  CU_ASSERT_NOT_EQUAL(h, checkpoint_state_hash(&b));
  b.key = 1;
  c[2] = 3.0000000000000004; /* one bit */
  checkpoint_put_f64(&b, "x", c, 3, 1);
  CU_ASSERT_NOT_EQUAL(h, checkpoint_state_hash(&b));
  c[2] = 3;
  checkpoint_put_f64(&b, "x", c, 1, 3); /* same bytes, other shape */
  CU_ASSERT_NOT_EQUAL(h, checkpoint_state_hash(&b));
  checkpoint_state_free(&a);
  checkpoint_state_free(&b);
}

/* SIGTERM outside a stage ends the process as without a handler; SIGUSR1
 * is only recorded. In a forked child, before MPI starts. */
static void test_signals(void) {
  pid_t pid = fork();
  CU_ASSERT_FATAL(pid >= 0);
  if (pid == 0) {
    checkpoint_install();
    raise(SIGUSR1);
    if (checkpoint_signal() != SIGUSR1) _exit(3);
    raise(SIGTERM);
    _exit(0); /* not reached when SIGTERM kills */
  }
  int st = 0;
  waitpid(pid, &st, 0);
  CU_ASSERT(WIFSIGNALED(st));
  if (WIFSIGNALED(st)) CU_ASSERT_EQUAL(WTERMSIG(st), SIGTERM);
}

/* ---- with MPI (singleton) -------------------------------------------- */

static char dir[64];

static int mpi_init(void) {
  snprintf(dir, sizeof dir, "/tmp/segcast-ckunit.XXXXXX");
  if (!mkdtemp(dir)) return 1;
  return comm_init(NULL, NULL) != SC_OK;
}

static int mpi_cleanup(void) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd)) return 1;
  comm_finalize();
  return 0;
}

static void run_make(sc_run *run, double every) {
  sc_config cfg;
  config_defaults(&cfg);
  snprintf(cfg.out, sizeof cfg.out, "%s/out", dir);
  cfg.checkpoint_seconds = every;
  run_init(run, &cfg);
}

static void test_keys(void) {
  sc_run a, b;
  run_make(&a, 0);
  run_make(&b, 0);
  uint64_t k = checkpoint_config_key(&a);
  CU_ASSERT_EQUAL(k, checkpoint_config_key(&b));
  CU_ASSERT_EQUAL(config_set(&b.cfg, "run.out=/elsewhere"), SC_OK);
  CU_ASSERT_EQUAL(config_set(&b.cfg, "run.checkpoint_seconds=5"), SC_OK);
  CU_ASSERT_EQUAL(config_set(&b.cfg, "input.path=/moved/data"), SC_OK);
  CU_ASSERT_EQUAL(k, checkpoint_config_key(&b)); /* none of these changes a result */
  CU_ASSERT_EQUAL(config_set(&b.cfg, "segment.k_max=7"), SC_OK);
  CU_ASSERT_NOT_EQUAL(k, checkpoint_config_key(&b));
  run_free(&b); /* before it is made again (LeakSanitizer: the summary leaked) */
  run_make(&b, 0);
  CU_ASSERT_EQUAL(config_set(&b.cfg, "run.seed=43"), SC_OK);
  CU_ASSERT_NOT_EQUAL(k, checkpoint_config_key(&b));
  /* data key: the same for any order of the same ids, not for other ids */
  int64_t ids[4] = {5, 9, 1, 7}, perm[4] = {7, 1, 9, 5}, other[4] = {5, 9, 1, 8};
  CU_ASSERT_EQUAL(checkpoint_data_key(ids, 4), checkpoint_data_key(perm, 4));
  CU_ASSERT_NOT_EQUAL(checkpoint_data_key(ids, 4), checkpoint_data_key(other, 4));
  CU_ASSERT_NOT_EQUAL(checkpoint_data_key(ids, 3), checkpoint_data_key(ids, 4));
  run_free(&a);
  run_free(&b);
}

static int file_exists(const char *p) {
  struct stat st;
  return stat(p, &st) == 0;
}

/* Reads /<stage>/a<i> with the HDF5 C API directly. */
static int h5_direct_read(const char *path, const char *obj, double *out, size_t n) {
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) return -1;
  hid_t d = H5Dopen2(f, obj, H5P_DEFAULT);
  int bad = d < 0;
  if (!bad) {
    hid_t sp = H5Dget_space(d);
    bad = (size_t)H5Sget_simple_extent_npoints(sp) != n ||
          H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0;
    H5Sclose(sp);
    H5Dclose(d);
  }
  H5Fclose(f);
  return bad ? -1 : 0;
}

static void test_save_load(void) {
  sc_run run;
  run_make(&run, 0);
  CU_ASSERT_EQUAL(sc_mkdirs(run.cfg.out), SC_OK);
  uint64_t key = checkpoint_key_mix(checkpoint_config_key(&run), 77);
  checkpoint_state s;
  int found = 1;
  CU_ASSERT_EQUAL(checkpoint_resume(&run, "segment", key, &s, &found), SC_OK);
  CU_ASSERT_EQUAL(found, 0);
  CU_ASSERT_STRING_EQUAL(s.stage, "segment");
  CU_ASSERT_EQUAL(checkpoint_due(&run), 0); /* no signal, no clock */
  double C[6] = {0.1, 0.2, 0.3, -1e-300, 1e300, 0.5};
  int64_t done[2] = {3, 4};
  s.step = 5;
  CU_ASSERT_EQUAL(checkpoint_put_f64(&s, "centroids", C, 2, 3), SC_OK);
  CU_ASSERT_EQUAL(checkpoint_put_i64(&s, "done", done, 2), SC_OK);
  CU_ASSERT_EQUAL(checkpoint_put_f64(&s, "none", NULL, 0, 3), SC_OK);
  CU_ASSERT_EQUAL(checkpoint_save(&run, &s), SC_OK);
  CU_ASSERT(file_exists(run.checkpoint_path));
  char tmp[SC_PATH_MAX + 8];
  snprintf(tmp, sizeof tmp, "%s.tmp", run.checkpoint_path);
  CU_ASSERT(!file_exists(tmp));
  /* the file, read without h5.c: array 0 is the centroids, row-major */
  double back[6];
  CU_ASSERT_EQUAL(h5_direct_read(run.checkpoint_path, "/segment/a0", back, 6), 0);
  CU_ASSERT_EQUAL(memcmp(back, C, sizeof C), 0);
  /* a second stage finished; its state joins the file at the next save */
  checkpoint_state t;
  CU_ASSERT_EQUAL(checkpoint_done(&run, &s), SC_OK);
  CU_ASSERT_EQUAL(checkpoint_resume(&run, "forecast", key, &t, &found), SC_OK);
  CU_ASSERT_EQUAL(found, 0);
  double trees[2] = {42, 43};
  t.step = 2;
  checkpoint_put_f64(&t, "trees", trees, 2, 1);
  CU_ASSERT_EQUAL(checkpoint_save(&run, &t), SC_OK);

  /* a new process: keep the file, forget the module's memory */
  char keep[SC_PATH_MAX + 8], cmd[3 * SC_PATH_MAX];
  snprintf(keep, sizeof keep, "%s.keep", run.checkpoint_path);
  snprintf(cmd, sizeof cmd, "cp %s %s", run.checkpoint_path, keep);
  CU_ASSERT_EQUAL(system(cmd), 0);
  CU_ASSERT_EQUAL(checkpoint_finish(&run), SC_OK);
  CU_ASSERT(!file_exists(run.checkpoint_path));
  CU_ASSERT_EQUAL(rename(keep, run.checkpoint_path), 0);

  checkpoint_state u;
  CU_ASSERT_EQUAL(checkpoint_resume(&run, "segment", key, &u, &found), SC_OK);
  CU_ASSERT_EQUAL(found, 1);
  CU_ASSERT_EQUAL(u.step, 5);
  CU_ASSERT_EQUAL(checkpoint_state_hash(&u), checkpoint_state_hash(&s));
  const double *gc;
  int64_t r, k;
  CU_ASSERT_EQUAL(checkpoint_get_f64(&u, "none", &gc, &r, &k), SC_OK);
  CU_ASSERT(r == 0 && k == 3);
  CU_ASSERT_EQUAL(checkpoint_done(&run, &u), SC_OK);
  checkpoint_state_free(&u);
  CU_ASSERT_EQUAL(checkpoint_resume(&run, "forecast", key, &u, &found), SC_OK);
  CU_ASSERT_EQUAL(found, 1);
  CU_ASSERT_EQUAL(checkpoint_state_hash(&u), checkpoint_state_hash(&t));
  checkpoint_state_free(&u);
  /* another key: not found, and the stale state is dropped */
  CU_ASSERT_EQUAL(checkpoint_resume(&run, "forecast", key + 1, &u, &found), SC_OK);
  CU_ASSERT_EQUAL(found, 0);
  CU_ASSERT_EQUAL(u.n, 0);
  checkpoint_state_free(&u);
  CU_ASSERT_EQUAL(checkpoint_finish(&run), SC_OK);
  checkpoint_state_free(&s);
  checkpoint_state_free(&t);
  run_free(&run);
}

static void test_due_and_signal(void) {
  sc_run run;
  run_make(&run, 0.05);
  checkpoint_state s;
  int found;
  checkpoint_install();
  checkpoint_clear_signal();
  CU_ASSERT_EQUAL(checkpoint_resume(&run, "segment", 1, &s, &found), SC_OK);
  CU_ASSERT_EQUAL(checkpoint_due(&run), 0);
  struct timespec ts = {0, 80 * 1000000L};
  nanosleep(&ts, NULL);
  CU_ASSERT_EQUAL(checkpoint_due(&run), 1); /* the clock */
  s.step = 1;
  CU_ASSERT_EQUAL(checkpoint_save(&run, &s), SC_OK); /* a timed save goes on */
  CU_ASSERT_EQUAL(checkpoint_due(&run), 0);            /* clock restarted */
  raise(SIGUSR1);
  CU_ASSERT_EQUAL(checkpoint_signal(), SIGUSR1);
  CU_ASSERT_EQUAL(checkpoint_due(&run), 1);
  s.step = 2;
  sc_clear();
  CU_ASSERT_EQUAL(checkpoint_save(&run, &s), SC_CHECKPOINTED);
  CU_ASSERT_PTR_NOT_NULL(strstr(sc_message(), "stopped by SIGUSR1 during segment after saving its state (step 2)"));
  sc_clear();
  /* armed, SIGTERM is recorded, not fatal */
  checkpoint_clear_signal();
  raise(SIGTERM);
  CU_ASSERT_EQUAL(checkpoint_signal(), SIGTERM);
  /* a signal after the last checkpoint_due: done saves and stops */
  CU_ASSERT_EQUAL(checkpoint_done(&run, &s), SC_CHECKPOINTED);
  CU_ASSERT_PTR_NOT_NULL(strstr(sc_message(), "stopped by SIGTERM during segment"));
  sc_clear();
  checkpoint_clear_signal();
  CU_ASSERT_EQUAL(checkpoint_finish(&run), SC_OK);
  checkpoint_state_free(&s);
  run_free(&run);
}

static void test_damaged_file(void) {
  sc_run run;
  run_make(&run, 0);
  CU_ASSERT_EQUAL(sc_mkdirs(run.cfg.out), SC_OK);
  FILE *f = fopen(run.checkpoint_path, "wb");
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  fputs("not an HDF5 file\n", f);
  fclose(f);
  checkpoint_state s;
  int found;
  sc_clear();
  CU_ASSERT_EQUAL(checkpoint_resume(&run, "segment", 1, &s, &found), SC_ESTORE);
  CU_ASSERT_PTR_NOT_NULL(strstr(sc_message(), "cannot be read (damaged, or not an HDF5 file): delete it"));
  sc_clear();
  checkpoint_state_free(&s);
  CU_ASSERT_EQUAL(checkpoint_finish(&run), SC_OK);
  run_free(&run);
}

void register_tests(void) {
  CU_pSuite local = CU_add_suite("checkpoint_local", NULL, NULL);
  CU_add_test(local, "state put/get/replace/errors", test_state_put_get);
  CU_add_test(local, "state hash", test_state_hash);
  CU_add_test(local, "SIGUSR1 recorded, SIGTERM unarmed kills", test_signals);
  CU_pSuite mpi = CU_add_suite("checkpoint_mpi", mpi_init, mpi_cleanup);
  CU_add_test(mpi, "configuration and data keys", test_keys);
  CU_add_test(mpi, "save, load, several stages, stale key", test_save_load);
  CU_add_test(mpi, "due on clock and signal, exit status", test_due_and_signal);
  CU_add_test(mpi, "damaged checkpoint file", test_damaged_file);
}
