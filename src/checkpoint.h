/* checkpoint.h: save and resume long training loops (k-means model
 * selection, boosting) so that a job stopped by Slurm goes on where it was.
 *
 * A stage keeps what it needs to continue in a checkpoint_state: a stage
 * name, a step counter, a key saying which configuration and data it
 * belongs to, and named arrays of doubles and int64. The state must be
 * replicated (the same bytes on every rank): that is what lets a run
 * stopped at one rank count resume at another. checkpoint_save checks it.
 *
 * The life of a checkpointable stage:
 *
 *   checkpoint_state st;
 *   int found;
 *   SC_TRY(checkpoint_resume(run, "segment", key, &st, &found));
 *   if (found) ...restore from st, skip the steps done...
 *   for (each step) {
 *     ...one step (one k-means seeding, N boosting rounds)...
 *     if (checkpoint_due(run)) {          // collective, cheap
 *       ...refill st (checkpoint_put_*), st.step = steps done...
 *       SC_TRY(checkpoint_save(run, &st)); // SC_CHECKPOINTED after a signal
 *     }
 *   }
 *   SC_TRY(checkpoint_done(run, &st));     // kept for later saves
 *   checkpoint_state_free(&st);
 *
 * checkpoint_save writes every stage's latest state (this one and those
 * finished earlier in the run) to run->checkpoint_path through a temporary
 * name renamed into place, so a kill mid-write leaves the previous file.
 * When the save was due to SIGTERM or SIGUSR1 it returns SC_CHECKPOINTED
 * (exit status 75) with a message saying how to resume; the stage passes it
 * up with SC_TRY and the program exits cleanly. checkpoint_finish removes
 * the file once the whole run has succeeded.
 *
 * Signals: checkpoint_install sets handlers that only record the signal.
 * SIGUSR1 (Slurm's warning before the time limit) is always kept for the
 * next checkpoint_due. SIGTERM is kept only while a stage is between
 * checkpoint_resume and checkpoint_done ("armed"); anywhere else it ends the
 * process at once as it would without the handler, since there is nothing
 * to save there.
 */
#ifndef SEGCAST_CHECKPOINT_H
#define SEGCAST_CHECKPOINT_H

#include <stdint.h>

#include "run.h"

enum { CHECKPOINT_F64 = 1, CHECKPOINT_I64 = 2 };

/// One named array of a state.
typedef struct {
  char name[64];
  int type;            ///< CHECKPOINT_F64 or CHECKPOINT_I64
  int64_t rows, cols;  ///< int64 arrays have cols = 1
  void *data;          ///< owned copy
} checkpoint_item;

/// What a stage needs to continue (replicated on every rank).
typedef struct {
  char stage[32];      ///< "segment", "forecast", ...
  int64_t step;        ///< steps completed (the stage's own unit)
  uint64_t key;        ///< configuration + data the state belongs to
  int n, cap;
  checkpoint_item *items;
} checkpoint_state;

/// Starts an empty state.
void checkpoint_state_init(checkpoint_state *s, const char *stage, uint64_t key);
void checkpoint_state_free(checkpoint_state *s);
/// Copies v (rows x cols doubles, row-major) under `name`, replacing an
/// array of that name. Names: up to 63 characters of [A-Za-z0-9_.-].
sc_status checkpoint_put_f64(checkpoint_state *s, const char *name, const double *v, int64_t rows, int64_t cols);
/// Copies n int64 values under `name`, replacing an array of that name.
sc_status checkpoint_put_i64(checkpoint_state *s, const char *name, const int64_t *v, int64_t n);
/// Borrows the array `name` (valid until the state changes). Fails with a
/// clear message when it is missing or has another type.
sc_status checkpoint_get_f64(const checkpoint_state *s, const char *name, const double **v, int64_t *rows,
                             int64_t *cols);
sc_status checkpoint_get_i64(const checkpoint_state *s, const char *name, const int64_t **v, int64_t *n);
/// A 64-bit hash of the whole state (stage, step, key, names, bytes).
uint64_t checkpoint_state_hash(const checkpoint_state *s);

/// Installs the SIGTERM and SIGUSR1 handlers (idempotent; not collective).
void checkpoint_install(void);
/// The last signal this process received (SIGTERM, SIGUSR1) or 0 (local).
int checkpoint_signal(void);
/// Forgets a received signal (tests; local).
void checkpoint_clear_signal(void);
/// Reads the test-only SEGCAST_TEST_SIGNAL_AT=<stage>:<step>[:<rank>] or
/// <stage>:done[:<rank>], which makes rank <rank> (default 0) raise SIGUSR1
/// at an exact step of a stage, so tests stop a run reproducibly: *step
/// gets the step (-2: done; -1 when the variable names another stage or is
/// unset) and *rank the rank. `unit` names the step in the message of a
/// malformed value ("step", "round"). Local.
sc_status checkpoint_test_signal(const char *stage, const char *unit, int64_t *step, int *rank);
/// Raises the test signal at such a step: SIGUSR1, or SIGKILL when the
/// test-only SEGCAST_TEST_SIGNAL=KILL is set (a rank that dies at an exact
/// point: tests/e2e/test_faults_kill.sh).
void checkpoint_test_raise(void);

/// Key of the run's configuration: a hash of every key that can change a
/// result (all but run.out, run.store, run.checkpoint, run.checkpoint_seconds
/// and input.path), so a resumed run refuses a state of another setup.
uint64_t checkpoint_config_key(const sc_run *run);
/// Key of a data set, collective: count and wrapping sum of hashed ids over
/// all ranks (the same for any partition of the same ids).
uint64_t checkpoint_data_key(const int64_t *ids, int64_t n);
/// Combines keys (order matters).
uint64_t checkpoint_key_mix(uint64_t a, uint64_t b);

/// Collective. Reads run->checkpoint_path (once per process) and, when it
/// holds a state of `stage` with this `key`, copies it into *s and sets
/// *found; otherwise *s is an empty state of that stage and key. A state
/// with another key is ignored with a line saying so. Arms SIGTERM and
/// starts the checkpoint_seconds clock.
sc_status checkpoint_resume(sc_run *run, const char *stage, uint64_t key, checkpoint_state *s, int *found);
/// Collective: true on every rank when any rank received SIGTERM or SIGUSR1,
/// or run.checkpoint_seconds (> 0) have passed since the last save or resume.
int checkpoint_due(sc_run *run);
/// Collective: saves s together with the states of the stages finished
/// earlier in this run. Returns SC_CHECKPOINTED after a signal (the caller
/// stops and propagates it), SC_EINTERNAL when s differs between ranks.
sc_status checkpoint_save(sc_run *run, const checkpoint_state *s);
/// Collective: the stage is finished; its final state is kept (in memory)
/// for the next save, and SIGTERM is disarmed. When a signal came after the
/// stage's last checkpoint_due, saves it now and returns SC_CHECKPOINTED.
sc_status checkpoint_done(sc_run *run, const checkpoint_state *s);
/// Collective: the whole run succeeded; removes the checkpoint file and
/// forgets every state.
sc_status checkpoint_finish(sc_run *run);

#endif
