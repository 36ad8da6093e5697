/* segcast.h: what every file of the program shares.
 *
 * One error idiom: every function that can fail returns an `sc_status`
 * (SC_OK = 0). The first failure records one human-readable line with
 * sc_fail() (what, which file/line/key, what to do); callers propagate the
 * status with SC_TRY. Collective code turns a local status into a global
 * one with comm_agree() (comm.h), which also carries the failing rank's
 * message to rank 0, the only rank that prints.
 */
#ifndef SEGCAST_H
#define SEGCAST_H

#include <stddef.h>
#include <stdint.h>

#ifndef SEGCAST_VERSION
#define SEGCAST_VERSION "0.0.0"
#endif
/// The git commit the program was built from ("unknown" outside a git work
/// tree; "-dirty" appended for a modified tree): packaging/version.cmake.
extern const char sc_commit[];

/// Status codes. Exit status of the program is the code.
typedef enum {
  SC_OK = 0,
  SC_EUSAGE = 2,     ///< bad command line or configuration
  SC_EINPUT = 3,     ///< input data unreadable or above the reject limit
  SC_EIO = 4,        ///< file system or HDF5 failure
  SC_ENOMEM = 5,     ///< allocation failed
  SC_ESTORE = 6,     ///< store missing, incompatible or corrupt
  SC_EINTERNAL = 7,  ///< a bug: an invariant did not hold
  SC_CHECKPOINTED = 75  ///< stopped on a signal after saving a checkpoint (EX_TEMPFAIL)
} sc_status;

/// Records the first failure's message (printf format) and returns `code`.
/// Later calls keep the first message so the root cause is what is shown.
sc_status sc_fail(sc_status code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/// The recorded message, or "" when none.
const char *sc_message(void);
/// Forgets the recorded message (tests that expect failures call it).
void sc_clear(void);

/// Propagates a failure: `SC_TRY(f(x));` returns f's status if non-zero.
#define SC_TRY(expr)                    \
  do {                                  \
    sc_status sc_try_s_ = (expr);       \
    if (sc_try_s_ != SC_OK) return sc_try_s_; \
  } while (0)

/// Allocation that records SC_ENOMEM; use with SC_TRY(sc_alloc(&p, n)).
sc_status sc_alloc(void *pptr, size_t bytes);
sc_status sc_calloc(void *pptr, size_t count, size_t size);
sc_status sc_realloc(void *pptr, size_t bytes);

/// Wall-clock seconds since an arbitrary origin (monotonic).
double sc_now(void);

#define SC_MIN(a, b) ((a) < (b) ? (a) : (b))
#define SC_MAX(a, b) ((a) > (b) ? (a) : (b))

/// floor(a * b / c) and ceil(a * b / c) for a, b >= 0 and c > 0, exact
/// through a 128-bit product: the shares and positions over row counts (a
/// rank's part of n rows, quantile and Lorenz positions, block splits), so
/// they cannot overflow however many rows (docs/operations.md, "Limits").
static inline int64_t sc_muldiv(int64_t a, int64_t b, int64_t c) { return (int64_t)((__int128)a * b / c); }
static inline int64_t sc_muldiv_ceil(int64_t a, int64_t b, int64_t c) {
  return (int64_t)(((__int128)a * b + c - 1) / c);
}

/// A 64-bit mixer (splitmix64 finaliser): hashes ids for partitioning and
/// keys every random choice by an entity id, never by a rank.
static inline uint64_t sc_mix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}
/// A uniform double in [0,1) from a key (53 bits).
static inline double sc_unit(uint64_t key) { return (double)(sc_mix64(key) >> 11) * 0x1.0p-53; }

#endif
