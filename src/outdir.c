/* outdir.c: the output folder: its lock, the staging folder, publishing.
 *
 * A command never writes into the output folder while it runs. Rank 0
 * takes the folder's lock (a file naming its host and pid), and every
 * output of the command is written into a staging folder beside it,
 * `<parent>/.<name>.staging-<host>-<pid>` (inside it, `<out>/.segcast.
 * staging-<host>-<pid>`, when the parent is another file system or not
 * writable). When the whole command has succeeded, the outputs are
 * published: a journal of the moves is written into the staging folder,
 * the folder's summary.json is removed (the folder is not whole during
 * the moves), each file is renamed into place, summary.json last (the
 * marker that the folder is whole again), then the staging folder and the
 * lock are removed. A failed command removes its staging folder: the
 * previous outputs stay as they were. A killed one leaves its staging
 * folder (and lock) behind; the next command into the folder removes them,
 * or finishes the publish when the journal says it had begun.
 *
 * `segcast run` replaces the folder's outputs as a whole: outputs of the
 * previous run (summary.json's "outputs") that this run did not write are
 * removed in the same publish. A single stage merges: it replaces the files
 * it wrote and keeps the others. docs/operations.md, "The output folder".
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint.h"
#include "comm.h"
#include "run.h"

#define MAX_OUTPUTS 64
#define JOURNAL ".publish"

typedef struct {
  char src[SC_PATH_MAX], dst[SC_PATH_MAX];
  char name[128]; /* the name in the output folder, "" for a file outside it (run.store) */
} staged;

/* Process-wide: a command has one output folder. Only rank 0 fills in
 * more than `active`, `whole` and `staging` (which every rank writes into). */
static struct {
  int active, whole, locked, publishing;
  long holder;               /* rank 0's pid, the lock's holder (every rank) */
  char dir[SC_PATH_MAX];     /* the output folder, resolved */
  char lock[SC_PATH_MAX];    /* the lock file */
  char base[SC_PATH_MAX];    /* the folder holding the lock and staging folders */
  char prefix[256];          /* their names' start: ".<name>." or ".segcast." */
  char staging[SC_PATH_MAX]; /* this command's staging folder */
  char host[256];
  staged files[MAX_OUTPUTS];
  int n;
} od;

static int exists(const char *p) {
  struct stat st;
  return lstat(p, &st) == 0;
}

/* The first line of a /proc file (Linux), "" when there is none. */
static void proc_line(const char *path, char *buf, size_t cap) {
  FILE *f = fopen(path, "r");
  buf[0] = 0;
  if (f && !fgets(buf, (int)cap, f)) buf[0] = 0;
  if (f) fclose(f);
}

/* 1 when pid (of this host) is a running segcast: not gone, not a zombie
 * (a killed rank's process stays one until it is reaped, which in a
 * container may be never), not a pid reused by another program. */
static int pid_alive(long pid) {
  if (pid <= 0 || (kill((pid_t)pid, 0) != 0 && errno != EPERM)) return 0;
  char p[64], stat[512], comm[64], self[64];
  snprintf(p, sizeof p, "/proc/%ld/stat", pid);
  proc_line(p, stat, sizeof stat);
  const char *close = strrchr(stat, ')');
  if (close && (close[2] == 'Z' || close[2] == 'X')) return 0;
  snprintf(p, sizeof p, "/proc/%ld/comm", pid);
  proc_line(p, comm, sizeof comm);
  proc_line("/proc/self/comm", self, sizeof self);
  return !comm[0] || !self[0] || !strcmp(comm, self);
}

/* Removes a folder and what it holds (a staging folder: files, and
 * folders only if a library made some). */
static void remove_tree(const char *p) {
  DIR *d = opendir(p);
  if (!d) {
    unlink(p);
    return;
  }
  struct dirent *e;
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    char q[SC_PATH_MAX + 256];
    snprintf(q, sizeof q, "%s/%s", p, e->d_name);
    struct stat st;
    if (lstat(q, &st) == 0 && S_ISDIR(st.st_mode)) remove_tree(q);
    else unlink(q);
  }
  closedir(d);
  rmdir(p);
}

/* ---- the lock ------------------------------------------------------------------- */

/* Reads the lock's "host pid" line; 0 when it cannot be read. */
static int lock_holder(const char *path, char *host, size_t cap, long *pid) {
  FILE *f = fopen(path, "r");
  char line[512] = "";
  if (!f) return 0;
  int ok = fgets(line, sizeof line, f) != NULL;
  fclose(f);
  char *sp = ok ? strrchr(line, ' ') : NULL;
  if (!sp) return 0;
  *sp = 0;
  *pid = strtol(sp + 1, NULL, 10);
  snprintf(host, cap, "%s", line);
  return *pid > 0;
}

/* Takes the lock, or says who holds it. The lock is written whole under a
 * private name and linked to its place (link fails when a lock exists); on
 * a file system without hard links, created with O_EXCL and then written.
 * A lock of a dead pid on this host is taken over with a warning; a lock
 * of another host is never taken over (its pid cannot be checked here). */
static sc_status lock_take(void) {
  char mine[SC_PATH_MAX + 300], text[320];
  snprintf(mine, sizeof mine, "%s.%s-%ld", od.lock, od.host, (long)getpid());
  int len = snprintf(text, sizeof text, "%s %ld\n", od.host, (long)getpid());
  for (int attempt = 0; attempt < 3; attempt++) {
    FILE *f = fopen(mine, "w");
    int bad = !f || fputs(text, f) < 0;
    if (f && fclose(f)) bad = 1;
    if (bad) {
      unlink(mine);
      return sc_fail(SC_EIO, "cannot write the lock file %s: %s (check that %s is writable and has room)", od.lock,
                     strerror(errno), od.base);
    }
    int got = link(mine, od.lock) == 0, err = errno;
    unlink(mine);
    if (!got && (err == EPERM || err == ENOTSUP || err == ENOSYS)) {
      int fd = open(od.lock, O_WRONLY | O_CREAT | O_EXCL, 0644);
      err = errno;
      got = fd >= 0 && write(fd, text, (size_t)len) == len;
      if (fd >= 0 && close(fd)) got = 0;
    }
    if (got) {
      od.locked = 1;
      return SC_OK;
    }
    if (err != EEXIST)
      return sc_fail(SC_EIO, "cannot create the lock file %s: %s (check that %s is writable)", od.lock, strerror(err),
                     od.base);
    char host[256] = "?";
    long pid = 0;
    int known = lock_holder(od.lock, host, sizeof host, &pid);
    if (known && !strcmp(host, od.host) && !pid_alive(pid)) {
      sc_say("output: warning: taking over the lock %s of segcast pid %ld on %s, which is no longer running", od.lock,
             pid, host);
      unlink(od.lock);
      continue;
    }
    if (!known) {
      usleep(200000); /* a lock being written: look again */
      if (attempt < 2) continue;
      return sc_fail(SC_EIO, "output folder %s is locked by %s, which names no holder: delete it if no segcast run "
                             "writes into %s", od.dir, od.lock, od.dir);
    }
    return sc_fail(SC_EIO,
                   "output folder %s is in use by another segcast run (lock file %s: host %s, pid %ld%s); wait for it "
                   "to end, or delete the lock file if that run is gone",
                   od.dir, od.lock, host, pid, strcmp(host, od.host) ? ", another host" : "");
  }
  return sc_fail(SC_EIO, "cannot take the lock %s: it keeps coming back; another segcast run is starting", od.lock);
}

static void lock_release(void) {
  if (od.locked) unlink(od.lock);
  od.locked = 0;
}

/* ---- the journal: publishing, and finishing an interrupted publish ------------------ */

/* Carries out a journal: "R\tpath" removes a file, "M\tfrom\tto" renames
 * one. The last line moves summary.json: while its source exists the
 * publish is not finished, and a replay (after a kill) does it all again;
 * moves whose source is gone were done already. */
static sc_status journal_replay(const char *staging) {
  char jp[SC_PATH_MAX + 16], line[2 * SC_PATH_MAX + 8], last_src[SC_PATH_MAX] = "";
  snprintf(jp, sizeof jp, "%s/" JOURNAL, staging);
  FILE *f = fopen(jp, "r");
  if (!f) return sc_fail(SC_EIO, "cannot read the publish journal %s: %s", jp, strerror(errno));
  while (fgets(line, sizeof line, f)) {
    char *a = strchr(line, '\t'), *b = a ? strchr(a + 1, '\t') : NULL;
    if (line[0] == 'M' && b) {
      *b = 0;
      snprintf(last_src, sizeof last_src, "%s", a + 1);
    }
  }
  if (!last_src[0] || !exists(last_src)) { /* summary.json moved: the publish is done */
    fclose(f);
    return SC_OK;
  }
  rewind(f);
  sc_status s = SC_OK;
  /* SEGCAST_TEST_SIGNAL_AT=publish:<n>: the test signal after n moves */
  int64_t at = -1, moves = 0;
  int rank_at = 0;
  if (checkpoint_test_signal("publish", "move", &at, &rank_at)) sc_clear(), at = -1;
  while (!s && fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = 0;
    char *a = strchr(line, '\t'), *b = a ? strchr(a + 1, '\t') : NULL;
    if (!a) continue;
    *a++ = 0;
    if (b) *b++ = 0;
    if (line[0] == 'R' && unlink(a) && errno != ENOENT)
      s = sc_fail(SC_EIO, "publishing: cannot remove %s: %s", a, strerror(errno));
    if (line[0] == 'M' && b && exists(a) && rename(a, b))
      s = sc_fail(SC_EIO, "publishing: cannot move %s to %s: %s", a, b, strerror(errno));
    if (line[0] == 'M' && ++moves == at) checkpoint_test_raise();
  }
  fclose(f);
  return s;
}

/* Staging folders of commands that are gone: finished (journal) or removed.
 * Called with the lock held, so no live command into this folder has one;
 * a folder of this host whose pid runs is kept all the same. */
static void clean_dead(void) {
  DIR *d = opendir(od.base);
  if (!d) return;
  char start[300];
  snprintf(start, sizeof start, "%sstaging-", od.prefix);
  size_t sl = strlen(start);
  struct dirent *e;
  while ((e = readdir(d))) {
    if (strncmp(e->d_name, start, sl)) continue;
    char p[SC_PATH_MAX + 300], host[256];
    snprintf(p, sizeof p, "%s/%s", od.base, e->d_name);
    if (!strcmp(p, od.staging)) continue;
    snprintf(host, sizeof host, "%s", e->d_name + sl);
    char *dash = strrchr(host, '-');
    long pid = dash ? strtol(dash + 1, NULL, 10) : 0;
    if (dash) *dash = 0;
    if (!strcmp(host, od.host) && pid_alive(pid)) continue;
    char jp[SC_PATH_MAX + 320];
    snprintf(jp, sizeof jp, "%s/" JOURNAL, p);
    if (exists(jp)) {
      sc_status s = journal_replay(p);
      sc_say("output: %s the publish of an interrupted run (%s, pid %ld) into %s", s ? "could not finish" : "finished",
             host, pid, od.dir);
      if (s) {
        sc_say("output: %s", sc_message());
        sc_clear();
        continue; /* keep its files: a later run tries again */
      }
    } else {
      sc_say("output: removing %s, the staging folder of a run that is no longer running", p);
    }
    remove_tree(p);
  }
  closedir(d);
}

/* ---- begin, stage, publish, clean up --------------------------------------------- */

static sc_status begin_rank0(const sc_run *run) {
  SC_TRY(sc_mkdirs(run->cfg.out));
  if (!realpath(run->cfg.out, od.dir))
    return sc_fail(SC_EIO, "cannot resolve the output folder %s: %s", run->cfg.out, strerror(errno));
  if (gethostname(od.host, sizeof od.host - 1)) snprintf(od.host, sizeof od.host, "localhost");
  for (char *c = od.host; *c; c++)
    if (*c == '/' || *c == ' ' || *c == '\t') *c = '_';
  /* beside the folder when its parent is the same file system and writable */
  char parent[SC_PATH_MAX];
  snprintf(parent, sizeof parent, "%s", od.dir);
  char *slash = strrchr(parent, '/');
  struct stat sp, sd;
  int beside = slash && slash != parent && slash[1];
  if (beside) *slash = 0;
  beside = beside && stat(parent, &sp) == 0 && stat(od.dir, &sd) == 0 && sp.st_dev == sd.st_dev &&
           access(parent, W_OK) == 0;
  if (beside) {
    snprintf(od.base, sizeof od.base, "%s", parent);
    snprintf(od.prefix, sizeof od.prefix, ".%.200s.", slash + 1);
  } else {
    snprintf(od.base, sizeof od.base, "%s", od.dir);
    snprintf(od.prefix, sizeof od.prefix, ".segcast.");
  }
  snprintf(od.lock, sizeof od.lock, "%s/%slock", od.base, od.prefix);
  snprintf(od.staging, sizeof od.staging, "%s/%sstaging-%s-%ld", od.base, od.prefix, od.host, (long)getpid());
  SC_TRY(lock_take());
  clean_dead();
  /* a checkpoint being saved when its run was killed */
  char ct[SC_PATH_MAX + 8];
  snprintf(ct, sizeof ct, "%s.tmp", run->checkpoint_path);
  if (!run->cfg.checkpoint[0]) unlink(ct);
  if (exists(od.staging)) remove_tree(od.staging); /* an earlier process of this pid */
  if (mkdir(od.staging, 0777))
    return sc_fail(SC_EIO, "cannot create the staging folder %s: %s (check that %s is writable)", od.staging,
                   strerror(errno), od.base);
  return SC_OK;
}

sc_status out_begin(const sc_run *run, int whole) {
  sc_status s = comm_rank() == 0 ? begin_rank0(run) : SC_OK;
  s = comm_agree(s);
  comm_bcast(od.staging, sizeof od.staging, 0);
  /* every rank knows the lock and its holder, for out_abort_cleanup */
  comm_bcast(od.lock, sizeof od.lock, 0);
  comm_bcast(od.host, sizeof od.host, 0);
  od.holder = (long)getpid();
  comm_bcast(&od.holder, sizeof od.holder, 0);
  od.whole = whole;
  od.active = !s;
  return s;
}

const char *out_path(const sc_run *run, const char *name, char *buf) {
  snprintf(buf, SC_PATH_MAX, "%s/%s", run->cfg.out, name);
  return buf;
}

const char *out_tmp_path(const sc_run *run, const char *name, char *buf) {
  (void)run;
  snprintf(buf, SC_PATH_MAX, "%s/%s", od.active ? od.staging : "(no staging folder: out_begin was not called)", name);
  return buf;
}

const char *out_external_tmp(const char *final, char *buf) {
  const char *tag = strrchr(od.staging, '/');
  tag = tag ? strstr(tag, "staging-") : NULL;
  snprintf(buf, SC_PATH_MAX, "%s.tmp-%s", final, tag ? tag + 8 : "unstaged");
  return buf;
}

static const staged *find_staged(const char *name) {
  for (int i = 0; i < od.n; i++)
    if (!strcmp(od.files[i].name, name)) return &od.files[i];
  return NULL;
}

static const staged *find_dst(const char *dst) {
  for (int i = 0; i < od.n; i++)
    if (!strcmp(od.files[i].dst, dst)) return &od.files[i];
  return NULL;
}

const char *out_read_path(const sc_run *run, const char *name, char *buf) {
  if (od.active && (find_staged(name) || od.whole)) return out_tmp_path(run, name, buf);
  return out_path(run, name, buf);
}

static sc_status record(const char *src, const char *dst, const char *name) {
  if (!od.active) return sc_fail(SC_EINTERNAL, "output %s written without a staging folder (out_begin)", dst);
  if (!exists(src)) return sc_fail(SC_EINTERNAL, "output %s was committed but %s does not exist", dst, src);
  if (find_dst(dst)) return SC_OK;
  if (od.n == MAX_OUTPUTS) return sc_fail(SC_EINTERNAL, "more than %d outputs in one run", MAX_OUTPUTS);
  staged *f = &od.files[od.n++];
  snprintf(f->src, sizeof f->src, "%s", src);
  snprintf(f->dst, sizeof f->dst, "%s", dst);
  snprintf(f->name, sizeof f->name, "%s", name);
  return SC_OK;
}

/* Copies a file (rank 0). */
static sc_status copy_file(const char *from, const char *to) {
  FILE *in = fopen(from, "rb");
  if (!in) return sc_fail(SC_EIO, "cannot read %s: %s", from, strerror(errno));
  FILE *out = fopen(to, "wb");
  sc_status s = out ? SC_OK : sc_fail(SC_EIO, "cannot create %s: %s", to, strerror(errno));
  static char buf[1 << 16];
  size_t k;
  while (!s && (k = fread(buf, 1, sizeof buf, in)) > 0)
    if (fwrite(buf, 1, k, out) != k) s = sc_fail(SC_EIO, "writing %s failed: check free disk space", to);
  if (!s && ferror(in)) s = sc_fail(SC_EIO, "reading %s failed", from);
  fclose(in);
  if (out && fclose(out) && !s) s = sc_fail(SC_EIO, "writing %s failed: check free disk space", to);
  return s;
}

sc_status out_update_path(const sc_run *run, const char *name, const char *final, char *path) {
  char dst[SC_PATH_MAX + 160];
  if (name) {
    out_tmp_path(run, name, path);
    snprintf(dst, sizeof dst, "%s/%s", od.dir, name);
  } else {
    out_external_tmp(final, path);
    snprintf(dst, sizeof dst, "%s", final);
  }
  if (!od.active) return sc_fail(SC_EINTERNAL, "output %s updated without a staging folder (out_begin)", dst);
  if (find_dst(dst) || !exists(dst)) return SC_OK; /* this run's copy, or nothing to start from */
  SC_TRY(copy_file(dst, path));
  return record(path, dst, name ? name : "");
}

sc_status out_commit_path(const sc_run *run, const char *name) {
  char src[SC_PATH_MAX], dst[SC_PATH_MAX + 160];
  out_tmp_path(run, name, src);
  snprintf(dst, sizeof dst, "%s/%s", od.dir, name);
  return record(src, dst, name);
}

sc_status out_commit_external(const char *tmp, const char *final) { return record(tmp, final, ""); }

sc_status out_open(const sc_run *run, const char *name, FILE **f) {
  char tmp[SC_PATH_MAX];
  *f = NULL;
  if (!od.active) return sc_fail(SC_EINTERNAL, "output %s opened without a staging folder (out_begin)", name);
  out_tmp_path(run, name, tmp);
  *f = fopen(tmp, "wb");
  if (!*f) return sc_fail(SC_EIO, "cannot create %s: %s", tmp, strerror(errno));
  static char bufs[4][1 << 20];
  static int next;
  setvbuf(*f, bufs[next++ % 4], _IOFBF, sizeof bufs[0]);
  return SC_OK;
}

sc_status out_commit(const sc_run *run, const char *name, FILE *f) {
  int bad = ferror(f);
  if (fclose(f) || bad) return sc_fail(SC_EIO, "writing output %s failed: check free disk space", name);
  return out_commit_path(run, name);
}

static int name_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* A name summary.json may list: a plain file name of the folder. */
static int plain_name(const char *s) { return s[0] && !strchr(s, '/') && strcmp(s, ".") && strcmp(s, ".."); }

void out_list_outputs(const sc_run *run) {
  json_t *old = json_object_get(run->summary, "outputs");
  const char *names[2 * MAX_OUTPUTS + 1];
  int n = 0;
  names[n++] = "summary.json";
  for (int i = 0; i < od.n; i++)
    if (od.files[i].name[0] && strcmp(od.files[i].name, "summary.json")) names[n++] = od.files[i].name;
  size_t i;
  json_t *v;
  if (!od.whole && json_is_array(old)) json_array_foreach(old, i, v) {
      const char *s = json_string_value(v);
      if (s && plain_name(s) && !find_staged(s) && strcmp(s, "summary.json") && n < 2 * MAX_OUTPUTS) names[n++] = s;
    }
  qsort(names, (size_t)n, sizeof *names, name_cmp);
  json_t *list = json_array();
  for (int k = 0; k < n; k++) json_array_append_new(list, json_string(names[k]));
  json_object_set_new(run->summary, "outputs", list);
}

/* Rank 0: the journal (removals of the previous run's outputs this one did
 * not write, for `segcast run`; the moves; summary.json last), then its
 * replay. */
static sc_status publish_rank0(const sc_run *run) {
  const staged *sum = find_staged("summary.json");
  if (!sum) return sc_fail(SC_EINTERNAL, "publishing %s without a summary.json", od.dir);
  char jp[SC_PATH_MAX + 16], jt[SC_PATH_MAX + 16], p[SC_PATH_MAX + 160];
  snprintf(jp, sizeof jp, "%s/" JOURNAL, od.staging);
  snprintf(jt, sizeof jt, "%s/" JOURNAL ".tmp", od.staging);
  FILE *f = fopen(jt, "w");
  if (!f) return sc_fail(SC_EIO, "cannot write %s: %s", jt, strerror(errno));
  fprintf(f, "R\t%s\n", sum->dst);
  if (od.whole) {
    out_path(run, "summary.json", p);
    json_t *old = json_load_file(p, 0, NULL), *v;
    size_t i;
    json_array_foreach(json_object_get(old, "outputs"), i, v) {
      const char *s = json_string_value(v);
      if (s && plain_name(s) && !find_staged(s)) fprintf(f, "R\t%s/%s\n", od.dir, s);
    }
    json_decref(old);
  }
  for (int i = 0; i < od.n; i++)
    if (&od.files[i] != sum) fprintf(f, "M\t%s\t%s\n", od.files[i].src, od.files[i].dst);
  fprintf(f, "M\t%s\t%s\n", sum->src, sum->dst);
  int bad = ferror(f) != 0;
  if (fflush(f) || fsync(fileno(f))) bad = 1;
  if (fclose(f)) bad = 1;
  if (bad || rename(jt, jp)) return sc_fail(SC_EIO, "cannot write %s: check free disk space", jp);
  od.publishing = 1;
  SC_TRY(journal_replay(od.staging));
  remove_tree(od.staging);
  od.publishing = 0;
  od.n = 0;
  lock_release();
  return SC_OK;
}

sc_status out_publish(const sc_run *run) {
  sc_status s = comm_agree(comm_rank() == 0 ? publish_rank0(run) : SC_OK);
  if (!s) od.active = 0;
  return s;
}

void out_cleanup(void) {
  if (comm_rank() != 0) return;
  if (od.active && !od.publishing) {
    remove_tree(od.staging);
    for (int i = 0; i < od.n; i++)
      if (!od.files[i].name[0]) unlink(od.files[i].src); /* a temporary outside the staging folder */
  }
  od.n = 0;
  od.active = 0;
  lock_release();
}

void out_abort_cleanup(void) {
  if (comm_rank() == 0) {
    out_cleanup();
    return;
  }
  /* A rank that stops the job alone: MPI_Abort ends rank 0 before its own
   * cleanup runs, so this rank removes the staging folder, and the lock
   * when it still names this run's rank 0 (the staging folder and lock are
   * on a file system every rank reaches: every rank writes there). */
  if (!od.active) return;
  remove_tree(od.staging);
  char host[256];
  long pid = 0;
  if (lock_holder(od.lock, host, sizeof host, &pid) && pid == od.holder && !strcmp(host, od.host)) unlink(od.lock);
  od.active = 0;
}
