/* scaling_mpiprof.c: a PMPI profiling library for the scaling runs
 * (bench/scaling.sh), loaded with LD_PRELOAD; segcast is not rebuilt.
 *
 * It times every MPI call the program makes, from segcast's comm.c and
 * from parallel HDF5, and sorts it into one of three classes:
 *   io    MPI_File_* (MPI-IO, i.e. HDF5's and comm_write_ordered's file
 *         access), and any MPI call made from inside libhdf5 (collective
 *         metadata broadcasts and reductions are part of the I/O);
 *   coll  collectives (Allreduce, Alltoallv, Bcast, Allgather, ...);
 *   p2p   point to point (Send, Recv, Wait, ...).
 * Calls made inside another timed call (ROMIO's own exchanges inside a
 * collective write) are not counted twice. Each top-level call is kept as
 * an interval with its function and payload; at MPI_Finalize every rank
 * writes $SEGCAST_MPIPROF_DIR/rank-<r>.txt: "init <t>" (when MPI_Init
 * returned), "hwm_kb <peak resident kB>", then one line per call,
 * "<class> <t0> <t1> <function> <bytes>" (CLOCK_MONOTONIC seconds), so the
 * collector can split them by stage and the model can read the message
 * sizes each collective really had. Time in a collective includes waiting
 * for the slowest rank (load imbalance, and oversubscription when ranks
 * outnumber cores): it is time a rank is not computing.
 *
 * MPI is used here, outside src/comm*.c, because this is a measuring tool
 * beside the program, not part of it.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { CLS_COLL = 0, CLS_P2P = 1, CLS_IO = 2 };
static const char *cls_name[] = {"coll", "p2p", "io"};

typedef struct {
  double t0, t1;
  int cls;
  const char *op; /* the MPI function, without "MPI_" */
  int64_t bytes;  /* payload this rank passes (see prof_bytes_* below) */
} prof_event;

static prof_event *events;
static size_t n_events, cap_events;
static int depth;
static double t_init = -1;

static double prof_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Whether a return address lies in libhdf5 (cached: few call sites). */
static int prof_from_hdf5(void *ra) {
  enum { SLOTS = 256 };
  static void *addr[SLOTS];
  static signed char res[SLOTS];
  size_t h = ((uintptr_t)ra >> 2) % SLOTS;
  if (addr[h] == ra) return res[h];
  Dl_info info;
  int r = dladdr(ra, &info) && info.dli_fname && strstr(info.dli_fname, "libhdf5");
  addr[h] = ra;
  res[h] = (signed char)r;
  return r;
}

static void prof_record(double t0, double t1, int cls, const char *op, int64_t bytes) {
  if (n_events == cap_events) {
    size_t cap = cap_events ? 2 * cap_events : 4096;
    prof_event *e = realloc(events, cap * sizeof *e);
    if (!e) return; /* out of memory: drop the event rather than the run */
    events = e;
    cap_events = cap;
  }
  events[n_events++] = (prof_event){t0, t1, cls, op, bytes};
}

/* Payload sizes: count x type size; for the v-variants the sum of the
 * counts this rank sends (Alltoallv) or receives (Allgatherv, Gatherv). */
static int64_t prof_bytes(int count, MPI_Datatype t) {
  int size = 0;
  if (t != MPI_DATATYPE_NULL) PMPI_Type_size(t, &size);
  return (int64_t)count * size;
}

static int64_t prof_bytes_v(const int *counts, MPI_Datatype t, MPI_Comm m) {
  int n = 0;
  PMPI_Comm_size(m, &n);
  int64_t sum = 0;
  for (int i = 0; counts && i < n; i++) sum += counts[i];
  return sum * prof_bytes(1, t);
}

static int64_t prof_size(MPI_Comm m) {
  int n = 1;
  PMPI_Comm_size(m, &n);
  return n;
}

/* Times CALL (MPI function OP moving BYTES) as class CLS unless nested in
 * another timed call. */
#define PROF(CLS, OP, BYTES, CALL)                                                              \
  do {                                                                                          \
    if (depth) return CALL;                                                                     \
    int cls_ = (CLS) == CLS_IO || prof_from_hdf5(__builtin_return_address(0)) ? CLS_IO : (CLS); \
    depth++;                                                                                    \
    int64_t b_ = (BYTES);                                                                       \
    double t0_ = prof_now();                                                                    \
    int r_ = CALL;                                                                              \
    double t1_ = prof_now();                                                                    \
    depth--;                                                                                    \
    prof_record(t0_, t1_, cls_, OP, b_);                                                        \
    return r_;                                                                                  \
  } while (0)

int MPI_Init(int *argc, char ***argv) {
  int r = PMPI_Init(argc, argv);
  t_init = prof_now();
  return r;
}

int MPI_Init_thread(int *argc, char ***argv, int required, int *provided) {
  int r = PMPI_Init_thread(argc, argv, required, provided);
  t_init = prof_now();
  return r;
}

int MPI_Finalize(void) {
  const char *dir = getenv("SEGCAST_MPIPROF_DIR");
  int rank = 0;
  PMPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (dir && *dir) {
    char path[4096];
    snprintf(path, sizeof path, "%s/rank-%d.txt", dir, rank);
    FILE *f = fopen(path, "w");
    if (f) {
      fprintf(f, "init %.9f\n", t_init);
      /* peak resident memory of this rank (kB), for the memory model */
      FILE *st = fopen("/proc/self/status", "r");
      char line[256];
      while (st && fgets(line, sizeof line, st))
        if (!strncmp(line, "VmHWM:", 6)) fprintf(f, "hwm_kb %lld\n", atoll(line + 6));
      if (st) fclose(st);
      for (size_t i = 0; i < n_events; i++)
        fprintf(f, "%s %.9f %.9f %s %lld\n", cls_name[events[i].cls], events[i].t0, events[i].t1, events[i].op,
                (long long)events[i].bytes);
      fclose(f);
    } else {
      fprintf(stderr, "scaling_mpiprof: cannot write %s\n", path);
    }
  }
  free(events);
  return PMPI_Finalize();
}

/* collectives */
int MPI_Allreduce(const void *s, void *r, int c, MPI_Datatype t, MPI_Op o, MPI_Comm m) {
  PROF(CLS_COLL, "Allreduce", prof_bytes(c, t), PMPI_Allreduce(s, r, c, t, o, m));
}
int MPI_Reduce(const void *s, void *r, int c, MPI_Datatype t, MPI_Op o, int root, MPI_Comm m) {
  PROF(CLS_COLL, "Reduce", prof_bytes(c, t), PMPI_Reduce(s, r, c, t, o, root, m));
}
int MPI_Bcast(void *b, int c, MPI_Datatype t, int root, MPI_Comm m) {
  PROF(CLS_COLL, "Bcast", prof_bytes(c, t), PMPI_Bcast(b, c, t, root, m));
}
int MPI_Barrier(MPI_Comm m) {
  PROF(CLS_COLL, "Barrier", 0, PMPI_Barrier(m));
}
int MPI_Allgather(const void *s, int sc, MPI_Datatype st, void *r, int rc, MPI_Datatype rt, MPI_Comm m) {
  PROF(CLS_COLL, "Allgather", prof_bytes(rc, rt) * prof_size(m), PMPI_Allgather(s, sc, st, r, rc, rt, m));
}
int MPI_Allgatherv(const void *s, int sc, MPI_Datatype st, void *r, const int rc[], const int d[], MPI_Datatype rt,
                   MPI_Comm m) {
  PROF(CLS_COLL, "Allgatherv", prof_bytes_v(rc, rt, m), PMPI_Allgatherv(s, sc, st, r, rc, d, rt, m));
}
int MPI_Gather(const void *s, int sc, MPI_Datatype st, void *r, int rc, MPI_Datatype rt, int root, MPI_Comm m) {
  PROF(CLS_COLL, "Gather", prof_bytes(rc, rt) * prof_size(m), PMPI_Gather(s, sc, st, r, rc, rt, root, m));
}
int MPI_Gatherv(const void *s, int sc, MPI_Datatype st, void *r, const int rc[], const int d[], MPI_Datatype rt,
                int root, MPI_Comm m) {
  PROF(CLS_COLL, "Gatherv", prof_bytes_v(rc, rt, m), PMPI_Gatherv(s, sc, st, r, rc, d, rt, root, m));
}
int MPI_Scatterv(const void *s, const int sc[], const int d[], MPI_Datatype st, void *r, int rc, MPI_Datatype rt,
                 int root, MPI_Comm m) {
  PROF(CLS_COLL, "Scatterv", prof_bytes_v(sc, st, m), PMPI_Scatterv(s, sc, d, st, r, rc, rt, root, m));
}
int MPI_Alltoall(const void *s, int sc, MPI_Datatype st, void *r, int rc, MPI_Datatype rt, MPI_Comm m) {
  PROF(CLS_COLL, "Alltoall", prof_bytes(rc, rt) * prof_size(m), PMPI_Alltoall(s, sc, st, r, rc, rt, m));
}
int MPI_Alltoallv(const void *s, const int sc[], const int sd[], MPI_Datatype st, void *r, const int rc[],
                  const int rd[], MPI_Datatype rt, MPI_Comm m) {
  PROF(CLS_COLL, "Alltoallv", prof_bytes_v(sc, st, m), PMPI_Alltoallv(s, sc, sd, st, r, rc, rd, rt, m));
}
int MPI_Exscan(const void *s, void *r, int c, MPI_Datatype t, MPI_Op o, MPI_Comm m) {
  PROF(CLS_COLL, "Exscan", prof_bytes(c, t), PMPI_Exscan(s, r, c, t, o, m));
}
int MPI_Scan(const void *s, void *r, int c, MPI_Datatype t, MPI_Op o, MPI_Comm m) {
  PROF(CLS_COLL, "Scan", prof_bytes(c, t), PMPI_Scan(s, r, c, t, o, m));
}

/* point to point */
int MPI_Send(const void *b, int c, MPI_Datatype t, int d, int tag, MPI_Comm m) {
  PROF(CLS_P2P, "Send", prof_bytes(c, t), PMPI_Send(b, c, t, d, tag, m));
}
int MPI_Recv(void *b, int c, MPI_Datatype t, int s, int tag, MPI_Comm m, MPI_Status *st) {
  PROF(CLS_P2P, "Recv", prof_bytes(c, t), PMPI_Recv(b, c, t, s, tag, m, st));
}
int MPI_Isend(const void *b, int c, MPI_Datatype t, int d, int tag, MPI_Comm m, MPI_Request *q) {
  PROF(CLS_P2P, "Isend", prof_bytes(c, t), PMPI_Isend(b, c, t, d, tag, m, q));
}
int MPI_Irecv(void *b, int c, MPI_Datatype t, int s, int tag, MPI_Comm m, MPI_Request *q) {
  PROF(CLS_P2P, "Irecv", prof_bytes(c, t), PMPI_Irecv(b, c, t, s, tag, m, q));
}
int MPI_Wait(MPI_Request *q, MPI_Status *st) {
  PROF(CLS_P2P, "Wait", 0, PMPI_Wait(q, st));
}
int MPI_Waitall(int n, MPI_Request q[], MPI_Status st[]) {
  PROF(CLS_P2P, "Waitall", 0, PMPI_Waitall(n, q, st));
}
int MPI_Sendrecv(const void *sb, int sc, MPI_Datatype st, int d, int stag, void *rb, int rc, MPI_Datatype rt, int s,
                 int rtag, MPI_Comm m, MPI_Status *status) {
  PROF(CLS_P2P, "Sendrecv", prof_bytes(sc, st) + prof_bytes(rc, rt),
       PMPI_Sendrecv(sb, sc, st, d, stag, rb, rc, rt, s, rtag, m, status));
}
int MPI_Probe(int s, int tag, MPI_Comm m, MPI_Status *st) {
  PROF(CLS_P2P, "Probe", 0, PMPI_Probe(s, tag, m, st));
}
int MPI_Mprobe(int s, int tag, MPI_Comm m, MPI_Message *msg, MPI_Status *st) {
  PROF(CLS_P2P, "Mprobe", 0, PMPI_Mprobe(s, tag, m, msg, st));
}

/* MPI-IO */
int MPI_File_open(MPI_Comm m, const char *name, int mode, MPI_Info info, MPI_File *fh) {
  PROF(CLS_IO, "File_open", 0, PMPI_File_open(m, name, mode, info, fh));
}
int MPI_File_close(MPI_File *fh) {
  PROF(CLS_IO, "File_close", 0, PMPI_File_close(fh));
}
int MPI_File_sync(MPI_File fh) {
  PROF(CLS_IO, "File_sync", 0, PMPI_File_sync(fh));
}
int MPI_File_set_size(MPI_File fh, MPI_Offset s) {
  PROF(CLS_IO, "File_set_size", 0, PMPI_File_set_size(fh, s));
}
int MPI_File_get_size(MPI_File fh, MPI_Offset *s) {
  PROF(CLS_IO, "File_get_size", 0, PMPI_File_get_size(fh, s));
}
int MPI_File_set_view(MPI_File fh, MPI_Offset d, MPI_Datatype e, MPI_Datatype ft, const char *rep, MPI_Info info) {
  PROF(CLS_IO, "File_set_view", 0, PMPI_File_set_view(fh, d, e, ft, rep, info));
}
int MPI_File_write_at(MPI_File fh, MPI_Offset o, const void *b, int c, MPI_Datatype t, MPI_Status *st) {
  PROF(CLS_IO, "File_write_at", prof_bytes(c, t), PMPI_File_write_at(fh, o, b, c, t, st));
}
int MPI_File_write_at_all(MPI_File fh, MPI_Offset o, const void *b, int c, MPI_Datatype t, MPI_Status *st) {
  PROF(CLS_IO, "File_write_at_all", prof_bytes(c, t), PMPI_File_write_at_all(fh, o, b, c, t, st));
}
int MPI_File_read_at(MPI_File fh, MPI_Offset o, void *b, int c, MPI_Datatype t, MPI_Status *st) {
  PROF(CLS_IO, "File_read_at", prof_bytes(c, t), PMPI_File_read_at(fh, o, b, c, t, st));
}
int MPI_File_read_at_all(MPI_File fh, MPI_Offset o, void *b, int c, MPI_Datatype t, MPI_Status *st) {
  PROF(CLS_IO, "File_read_at_all", prof_bytes(c, t), PMPI_File_read_at_all(fh, o, b, c, t, st));
}
int MPI_File_write_all(MPI_File fh, const void *b, int c, MPI_Datatype t, MPI_Status *st) {
  PROF(CLS_IO, "File_write_all", prof_bytes(c, t), PMPI_File_write_all(fh, b, c, t, st));
}
int MPI_File_read_all(MPI_File fh, void *b, int c, MPI_Datatype t, MPI_Status *st) {
  PROF(CLS_IO, "File_read_all", prof_bytes(c, t), PMPI_File_read_all(fh, b, c, t, st));
}
