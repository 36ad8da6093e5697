/* checkpoint.c: signal flags, the checkpoint clock, and the HDF5 file of
 * training states (see checkpoint.h for the life of a stage).
 *
 * Process-wide state lives here on purpose: a signal handler can only set a
 * flag, and the states of stages finished earlier in the run must outlive
 * those stages so that a later save still holds them (a job stopped during
 * boosting must not redo the k-means sweep). That registry holds copies of
 * the replicated states, so it is small: centroids, scores, trees.
 *
 * File layout (every array written from rank 0's copy, read by all ranks):
 *   /                 attrs format = "segcast-checkpoint", version = 1
 *   /stages           string list: the stages held
 *   /<stage>          attrs step, key, hash (of the whole state)
 *   /<stage>/names    string list: the arrays' names
 *   /<stage>/shape    int64 triples (type, rows, cols), one per array
 *   /<stage>/a<i>     the i-th array (absent when it has no elements)
 * The hash is recomputed on load, so a damaged file is refused, not used.
 */
#include "checkpoint.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "comm.h"
#include "h5.h"

#define CHECKPOINT_VERSION 1
#define MAX_STAGES 8

static volatile sig_atomic_t sig_got;   /* last signal received, 0: none */
static volatile sig_atomic_t sig_armed; /* a stage is between resume and done */
static int installed;
static double clock_start = -1;        /* last save or resume (sc_now) */
static int stop_after_save;            /* the agreed due reason was a signal */
static int agreed_signal;              /* which one, for the message */
static int file_read;                  /* run->checkpoint_path read already */
static checkpoint_state registry[MAX_STAGES];
static int n_registry;

/* ---- states ---------------------------------------------------------- */

void checkpoint_state_init(checkpoint_state *s, const char *stage, uint64_t key) {
  memset(s, 0, sizeof *s);
  snprintf(s->stage, sizeof s->stage, "%s", stage);
  s->key = key;
}

void checkpoint_state_free(checkpoint_state *s) {
  for (int i = 0; i < s->n; i++) free(s->items[i].data);
  free(s->items);
  s->items = NULL;
  s->n = s->cap = 0;
}

static int name_ok(const char *name) {
  size_t l = strlen(name);
  if (l == 0 || l >= sizeof(((checkpoint_item *)0)->name)) return 0;
  for (const char *p = name; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
          *p == '.' || *p == '-'))
      return 0;
  return 1;
}

static checkpoint_item *find_item(const checkpoint_state *s, const char *name) {
  for (int i = 0; i < s->n; i++)
    if (!strcmp(s->items[i].name, name)) return &s->items[i];
  return NULL;
}

/* Stores a copy of rows x cols elements of 8 bytes under name. */
static sc_status put_item(checkpoint_state *s, const char *name, int type, const void *v, int64_t rows, int64_t cols) {
  if (!name_ok(name))
    return sc_fail(SC_EINTERNAL, "checkpoint: bad array name '%s' in stage %s (1-63 of A-Z a-z 0-9 _ . -)", name,
                   s->stage);
  if (rows < 0 || cols < 1)
    return sc_fail(SC_EINTERNAL, "checkpoint: array %s of stage %s has shape %lld x %lld", name, s->stage,
                   (long long)rows, (long long)cols);
  size_t bytes = (size_t)rows * (size_t)cols * 8;
  void *copy = NULL;
  SC_TRY(sc_alloc(&copy, bytes ? bytes : 1));
  if (bytes) memcpy(copy, v, bytes);
  checkpoint_item *it = find_item(s, name);
  if (!it) {
    if (s->n == s->cap) {
      int cap = s->cap ? 2 * s->cap : 8;
      sc_status st = sc_realloc(&s->items, (size_t)cap * sizeof *s->items);
      if (st) {
        free(copy);
        return st;
      }
      s->cap = cap;
    }
    it = &s->items[s->n++];
    memset(it, 0, sizeof *it);
    snprintf(it->name, sizeof it->name, "%s", name);
  }
  free(it->data);
  it->type = type;
  it->rows = rows;
  it->cols = cols;
  it->data = copy;
  return SC_OK;
}

sc_status checkpoint_put_f64(checkpoint_state *s, const char *name, const double *v, int64_t rows, int64_t cols) {
  return put_item(s, name, CHECKPOINT_F64, v, rows, cols);
}

sc_status checkpoint_put_i64(checkpoint_state *s, const char *name, const int64_t *v, int64_t n) {
  return put_item(s, name, CHECKPOINT_I64, v, n, 1);
}

static sc_status get_item(const checkpoint_state *s, const char *name, int type, const checkpoint_item **out) {
  const checkpoint_item *it = find_item(s, name);
  if (!it || it->type != type)
    return sc_fail(SC_ESTORE,
                   "checkpoint: stage %s has no %s array '%s': the checkpoint was written by another version; "
                   "delete it to start over",
                   s->stage, type == CHECKPOINT_F64 ? "double" : "int64", name);
  *out = it;
  return SC_OK;
}

sc_status checkpoint_get_f64(const checkpoint_state *s, const char *name, const double **v, int64_t *rows,
                             int64_t *cols) {
  const checkpoint_item *it = NULL;
  SC_TRY(get_item(s, name, CHECKPOINT_F64, &it));
  *v = it->data;
  if (rows) *rows = it->rows;
  if (cols) *cols = it->cols;
  return SC_OK;
}

sc_status checkpoint_get_i64(const checkpoint_state *s, const char *name, const int64_t **v, int64_t *n) {
  const checkpoint_item *it = NULL;
  SC_TRY(get_item(s, name, CHECKPOINT_I64, &it));
  *v = it->data;
  if (n) *n = it->rows;
  return SC_OK;
}

uint64_t checkpoint_state_hash(const checkpoint_state *s) {
  XXH64_state_t *h = XXH64_createState();
  XXH64_reset(h, 0x5e6ca57c4ec4901ULL);
  XXH64_update(h, s->stage, strlen(s->stage) + 1);
  XXH64_update(h, &s->step, sizeof s->step);
  XXH64_update(h, &s->key, sizeof s->key);
  for (int i = 0; i < s->n; i++) {
    const checkpoint_item *it = &s->items[i];
    int64_t shape[3] = {it->type, it->rows, it->cols};
    XXH64_update(h, it->name, strlen(it->name) + 1);
    XXH64_update(h, shape, sizeof shape);
    XXH64_update(h, it->data, (size_t)(it->rows * it->cols * 8));
  }
  uint64_t v = XXH64_digest(h);
  XXH64_freeState(h);
  return v;
}

static sc_status state_copy(checkpoint_state *dst, const checkpoint_state *src) {
  checkpoint_state_init(dst, src->stage, src->key);
  dst->step = src->step;
  for (int i = 0; i < src->n; i++) {
    const checkpoint_item *it = &src->items[i];
    sc_status st = put_item(dst, it->name, it->type, it->data, it->rows, it->cols);
    if (st) {
      checkpoint_state_free(dst);
      return st;
    }
  }
  return SC_OK;
}

/* Keeps a copy of s as its stage's latest state (replacing an older one). */
static sc_status registry_put(const checkpoint_state *s) {
  int i = 0;
  while (i < n_registry && strcmp(registry[i].stage, s->stage)) i++;
  if (i == MAX_STAGES) return sc_fail(SC_EINTERNAL, "checkpoint: more than %d stages", MAX_STAGES);
  checkpoint_state copy;
  SC_TRY(state_copy(&copy, s));
  if (i < n_registry) checkpoint_state_free(&registry[i]);
  else n_registry++;
  registry[i] = copy;
  return SC_OK;
}

static void registry_drop(int i) {
  checkpoint_state_free(&registry[i]);
  for (int j = i + 1; j < n_registry; j++) registry[j - 1] = registry[j];
  n_registry--;
}

static void registry_clear(void) {
  while (n_registry) registry_drop(n_registry - 1);
}

/* ---- signals and keys ------------------------------------------------ */

static void on_signal(int sig) {
  sig_got = sig;
  if (sig == SIGTERM && !sig_armed) {
    /* nothing to save here: die as if no handler were installed */
    signal(SIGTERM, SIG_DFL);
    raise(SIGTERM);
  }
}

void checkpoint_install(void) {
  if (installed) return;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART; /* file and MPI calls go on; the flag is read at the next step */
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGUSR1, &sa, NULL);
  installed = 1;
}

int checkpoint_signal(void) { return sig_got; }

void checkpoint_clear_signal(void) { sig_got = 0; }

sc_status checkpoint_test_signal(const char *stage, const char *unit, int64_t *step, int *rank) {
  *step = -1;
  *rank = 0;
  const char *v = getenv("SEGCAST_TEST_SIGNAL_AT");
  size_t ls = strlen(stage);
  if (!v || strncmp(v, stage, ls) || v[ls] != ':') return SC_OK;
  const char *p = v + ls + 1;
  char *end = NULL;
  if (!strncmp(p, "done", 4)) {
    *step = -2;
    end = (char *)p + 4;
  } else {
    *step = strtoll(p, &end, 10);
    if (end == p || *step < 1) end = NULL;
  }
  if (end && *end == ':') {
    const char *r = end + 1;
    *rank = (int)strtol(r, &end, 10);
    if (end == r || *rank < 0) end = NULL;
  }
  if (!end || *end)
    return sc_fail(SC_EUSAGE, "SEGCAST_TEST_SIGNAL_AT='%s' is not %s:<%s>[:<rank>] or %s:done[:<rank>] "
                              "(a test-only variable: unset it)",
                   v, stage, unit, stage);
  return SC_OK;
}

void checkpoint_test_raise(void) {
  const char *v = getenv("SEGCAST_TEST_SIGNAL");
  raise(v && !strcmp(v, "KILL") ? SIGKILL : SIGUSR1);
}

uint64_t checkpoint_key_mix(uint64_t a, uint64_t b) { return sc_mix64(a ^ sc_mix64(b + 0x632BE59BD9B4E019ULL)); }

static void key_cb(void *ctx, const char *section, const char *key, const char *value, const char *doc) {
  (void)doc;
  static const char *skip[][2] = {{"run", "out"},        {"run", "store"}, {"run", "checkpoint"},
                                  {"run", "checkpoint_seconds"}, {"input", "path"}};
  for (size_t i = 0; i < sizeof skip / sizeof skip[0]; i++)
    if (!strcmp(section, skip[i][0]) && !strcmp(key, skip[i][1])) return;
  XXH64_state_t *h = ctx;
  XXH64_update(h, section, strlen(section) + 1);
  XXH64_update(h, key, strlen(key) + 1);
  XXH64_update(h, value, strlen(value) + 1);
}

uint64_t checkpoint_config_key(const sc_run *run) {
  XXH64_state_t *h = XXH64_createState();
  XXH64_reset(h, 1);
  config_each(&run->cfg, key_cb, h);
  uint64_t v = XXH64_digest(h);
  XXH64_freeState(h);
  return v;
}

uint64_t checkpoint_data_key(const int64_t *ids, int64_t n) {
  uint64_t sum = 0;
  for (int64_t i = 0; i < n; i++) sum += sc_mix64((uint64_t)ids[i]);
  /* a wrapping sum is exact in int64 two's complement, so summing the
   * reinterpreted values over ranks gives the same bits in any order */
  int64_t v[2] = {n, (int64_t)sum};
  comm_sum_i64(v, 2);
  return checkpoint_key_mix((uint64_t)v[0], (uint64_t)v[1]);
}

/* ---- the file -------------------------------------------------------- */

static int file_exists(const char *p) {
  struct stat st;
  return stat(p, &st) == 0;
}

static sc_status write_state(sc_h5 *f, const checkpoint_state *s) {
  char p[512];
  snprintf(p, sizeof p, "/%s", s->stage);
  SC_TRY(h5_set_attr_i64(f, p, "step", s->step));
  SC_TRY(h5_set_attr_i64(f, p, "key", (int64_t)s->key));
  SC_TRY(h5_set_attr_i64(f, p, "hash", (int64_t)checkpoint_state_hash(s)));
  SC_TRY(h5_set_attr_i64(f, p, "arrays", s->n));
  if (s->n == 0) return SC_OK;
  char **names = NULL;
  int64_t *shape = NULL;
  sc_status st = sc_calloc(&names, (size_t)s->n, sizeof *names);
  if (!st) st = sc_alloc(&shape, (size_t)s->n * 3 * sizeof *shape);
  for (int i = 0; !st && i < s->n; i++) {
    names[i] = s->items[i].name;
    shape[3 * i] = s->items[i].type;
    shape[3 * i + 1] = s->items[i].rows;
    shape[3 * i + 2] = s->items[i].cols;
  }
  st = comm_agree(st);
  snprintf(p, sizeof p, "/%s/names", s->stage);
  if (!st) st = h5_write_strings(f, p, names, s->n);
  snprintf(p, sizeof p, "/%s/shape", s->stage);
  if (!st) st = h5_write_i64(f, p, shape, 3 * (int64_t)s->n);
  for (int i = 0; !st && i < s->n; i++) {
    const checkpoint_item *it = &s->items[i];
    if (it->rows == 0) continue;
    snprintf(p, sizeof p, "/%s/a%d", s->stage, i);
    st = it->type == CHECKPOINT_F64 ? h5_write_f64(f, p, it->data, it->rows, it->cols)
                                    : h5_write_i64(f, p, it->data, it->rows);
  }
  free(names);
  free(shape);
  return st;
}

static sc_status read_state(sc_h5 *f, const char *stage, checkpoint_state *s) {
  char p[512];
  int64_t step, key, hash, n;
  snprintf(p, sizeof p, "/%s", stage);
  SC_TRY(h5_get_attr_i64(f, p, "step", &step));
  SC_TRY(h5_get_attr_i64(f, p, "key", &key));
  SC_TRY(h5_get_attr_i64(f, p, "hash", &hash));
  SC_TRY(h5_get_attr_i64(f, p, "arrays", &n));
  checkpoint_state_init(s, stage, (uint64_t)key);
  s->step = step;
  if (n == 0) return SC_OK;
  char **names = NULL;
  int64_t nn = 0, ns = 0, *shape = NULL;
  snprintf(p, sizeof p, "/%s/names", stage);
  sc_status st = h5_read_strings(f, p, &names, &nn);
  snprintf(p, sizeof p, "/%s/shape", stage);
  if (!st) st = h5_read_i64(f, p, &shape, &ns);
  if (!st && (nn != n || ns != 3 * n))
    st = sc_fail(SC_ESTORE, "checkpoint %s: stage %s lists %lld arrays but holds %lld names and %lld shapes", f->path,
                 stage, (long long)n, (long long)nn, (long long)ns);
  for (int64_t i = 0; !st && i < n; i++) {
    int64_t type = shape[3 * i], rows = shape[3 * i + 1], cols = shape[3 * i + 2], r = 0, c = 1;
    void *data = NULL;
    if (rows > 0) {
      snprintf(p, sizeof p, "/%s/a%lld", stage, (long long)i);
      if (type == CHECKPOINT_F64) st = h5_read_f64(f, p, (double **)&data, &r, &c);
      else st = h5_read_i64(f, p, (int64_t **)&data, &r);
      if (!st && (r != rows || c != cols))
        st = sc_fail(SC_ESTORE, "checkpoint %s: array %s of stage %s has the wrong shape", f->path, names[i], stage);
    }
    if (!st) st = put_item(s, names[i], (int)type, data, rows, cols);
    free(data);
  }
  for (int64_t i = 0; i < nn; i++) free(names[i]);
  free(names);
  free(shape);
  if (!st && (int64_t)checkpoint_state_hash(s) != hash)
    st = sc_fail(SC_ESTORE, "checkpoint %s: stage %s does not match its checksum; delete the file to start over",
                 f->path, stage);
  if (st) checkpoint_state_free(s);
  return comm_agree(st);
}

/* Reads every stage of the file into the registry (collective). */
static sc_status read_file(sc_run *run) {
  const char *path = run->checkpoint_path;
  int exists = (int)comm_max1_i64(comm_rank() == 0 ? file_exists(path) : 0);
  if (!exists) return SC_OK;
  sc_h5 f;
  if (h5_open(&f, path, 0)) {
    sc_clear(); /* h5_open's advice ("run the step that writes it") does not fit here */
    return comm_agree(sc_fail(SC_ESTORE,
                              "checkpoint %s cannot be read (damaged, or not an HDF5 file): delete it to start over, "
                              "or set run.checkpoint to another file",
                              path));
  }
  char format[64] = "";
  int64_t version = 0, nst = 0;
  char **stages = NULL;
  sc_status st = h5_get_attr_str(&f, "/", "format", format, sizeof format);
  if (!st) st = h5_get_attr_i64(&f, "/", "version", &version);
  if (!st && (strcmp(format, "segcast-checkpoint") || version != CHECKPOINT_VERSION))
    st = comm_agree(sc_fail(SC_ESTORE,
                            "%s is not a segcast checkpoint of version %d: delete it or set run.checkpoint to "
                            "another file",
                            path, CHECKPOINT_VERSION));
  if (!st) st = h5_read_strings(&f, "/stages", &stages, &nst);
  for (int64_t i = 0; !st && i < nst; i++) {
    checkpoint_state s;
    st = read_state(&f, stages[i], &s);
    if (!st) {
      st = comm_agree(registry_put(&s));
      checkpoint_state_free(&s);
    }
  }
  for (int64_t i = 0; i < nst; i++) free(stages[i]);
  free(stages);
  sc_status c = h5_close(&f);
  return st ? st : c;
}

static const char *signal_name(int sig) { return sig == SIGTERM ? "SIGTERM" : sig == SIGUSR1 ? "SIGUSR1" : "a signal"; }

sc_status checkpoint_resume(sc_run *run, const char *stage, uint64_t key, checkpoint_state *s, int *found) {
  *found = 0;
  checkpoint_state_init(s, stage, key);
  if (!file_read) {
    SC_TRY(read_file(run));
    file_read = 1;
  }
  for (int i = 0; i < n_registry; i++) {
    if (strcmp(registry[i].stage, stage)) continue;
    if (registry[i].key != key) {
      sc_say("checkpoint: %s holds a %s state of another configuration or data set; starting %s from the beginning",
             run->checkpoint_path, stage, stage);
      registry_drop(i);
      break;
    }
    SC_TRY(comm_agree(state_copy(s, &registry[i])));
    *found = 1;
    sc_say("checkpoint: resuming %s after step %lld from %s", stage, (long long)s->step, run->checkpoint_path);
    break;
  }
  sig_armed = 1;
  clock_start = sc_now();
  return SC_OK;
}

int checkpoint_due(sc_run *run) {
  if (clock_start < 0) clock_start = sc_now();
  int sig = sig_got;
  double every = run->cfg.checkpoint_seconds;
  int64_t v[2] = {every > 0 && sc_now() - clock_start >= every, sig};
  comm_max_i64(v, 2);
  if (v[1]) {
    stop_after_save = 1;
    agreed_signal = (int)v[1];
  }
  return v[0] || v[1];
}

sc_status checkpoint_save(sc_run *run, const checkpoint_state *s) {
  /* every rank must hold the same state, or a resume at another rank count
   * would continue from rank 0's copy with other ranks' data */
  uint64_t h = checkpoint_state_hash(s);
  int64_t hv[2] = {(int64_t)(h >> 1), -(int64_t)(h >> 1)};
  comm_max_i64(hv, 2);
  if (hv[0] != -hv[1])
    return comm_agree(sc_fail(SC_EINTERNAL, "checkpoint: the %s state differs between ranks (a bug: it must be replicated)",
                              s->stage));
  SC_TRY(comm_agree(registry_put(s)));

  double t0 = sc_now();
  char tmp[SC_PATH_MAX + 8], dir[SC_PATH_MAX];
  snprintf(tmp, sizeof tmp, "%s.tmp", run->checkpoint_path);
  snprintf(dir, sizeof dir, "%s", run->checkpoint_path);
  char *slash = strrchr(dir, '/');
  if (slash && slash != dir) {
    *slash = 0;
    SC_TRY(comm_agree(comm_rank() == 0 ? sc_mkdirs(dir) : SC_OK));
  }
  sc_h5 f;
  SC_TRY(h5_create(&f, tmp));
  sc_status st = h5_set_attr_str(&f, "/", "format", "segcast-checkpoint");
  if (!st) st = h5_set_attr_i64(&f, "/", "version", CHECKPOINT_VERSION);
  if (!st) st = h5_set_attr_i64(&f, "/", "ranks", comm_size());
  char *names[MAX_STAGES];
  for (int i = 0; i < n_registry; i++) names[i] = registry[i].stage;
  if (!st) st = h5_write_strings(&f, "/stages", names, n_registry);
  for (int i = 0; !st && i < n_registry; i++) st = write_state(&f, &registry[i]);
  sc_status c = h5_close(&f);
  if (!st) st = c;
  if (!st && comm_rank() == 0 && rename(tmp, run->checkpoint_path))
    st = sc_fail(SC_EIO, "cannot rename %s to %s: %s", tmp, run->checkpoint_path, strerror(errno));
  if (st && comm_rank() == 0) unlink(tmp);
  SC_TRY(comm_agree(st));
  clock_start = sc_now();
  sc_say("checkpoint: %s after step %lld saved to %s in %.2f s", s->stage, (long long)s->step, run->checkpoint_path,
         clock_start - t0);
  if (stop_after_save) {
    stop_after_save = 0;
    return sc_fail(SC_CHECKPOINTED,
                   "stopped by %s during %s after saving its state (step %lld) to %s; run the same command again, at "
                   "any rank count, to resume",
                   signal_name(agreed_signal), s->stage, (long long)s->step, run->checkpoint_path);
  }
  return SC_OK;
}

sc_status checkpoint_done(sc_run *run, const checkpoint_state *s) {
  /* a signal that came after the stage's last checkpoint_due: the stage's
   * work is done, so keep it on disk before stopping (the next stage may
   * have no safe point before Slurm's SIGKILL) */
  int64_t sig = comm_max1_i64(sig_got);
  if (sig) {
    stop_after_save = 1;
    agreed_signal = (int)sig;
    sc_status st = checkpoint_save(run, s);
    sig_armed = 0;
    return st;
  }
  sig_armed = 0;
  if (sig_got == SIGTERM) {
    /* it came between the agreement above and disarming: die as unarmed */
    signal(SIGTERM, SIG_DFL);
    raise(SIGTERM);
  }
  return comm_agree(registry_put(s));
}

sc_status checkpoint_finish(sc_run *run) {
  registry_clear();
  file_read = 0;
  sig_armed = 0;
  clock_start = -1;
  if (comm_rank() == 0) unlink(run->checkpoint_path);
  comm_barrier();
  return SC_OK;
}
