/* run.h: the state of one segcast command, shared by every stage.
 *
 * `sc_run` carries the configuration, the rank/thread layout and the one
 * place every result goes: `summary`, a JSON tree (jansson) that becomes
 * summary.json and that the report reads. Stages add their metrics under
 * their own key ("input", "sales", "segment", "forecast", "seconds").
 *
 * Outputs are written into a staging folder beside the output folder
 * (out_begin), through out_open/out_commit or, for files written by
 * libraries, at out_tmp_path; out_publish moves them all into the output
 * folder at the end, summary.json last; a failed run leaves the folder as
 * it was (outdir.c, docs/operations.md "The output folder").
 */
#ifndef SEGCAST_RUN_H
#define SEGCAST_RUN_H

#include <jansson.h>
#include <stdio.h>

#include "config.h"
#include "csvtext.h" /* out_csv_field: every CSV output's text cells */
#include "table.h"

typedef struct {
  sc_config cfg;
  int rank, size, threads;
  double t_start;
  json_t *summary;  ///< every result, in one place (rank 0's copy is authoritative)
  char store_path[SC_PATH_MAX];
  char checkpoint_path[SC_PATH_MAX];
} sc_run;

/// Everything ingest produced, held per rank, partitioned as table.h says.
typedef struct {
  char layout[32];
  sc_table lines;      ///< by user
  sc_table users;      ///< marketplace only (n = 0 otherwise)
  sc_table clicks;     ///< marketplace with clicks.csv only
  sc_table inventory;  ///< marketplace with inventory.csv only, by series
  sc_table network;    ///< marketplace only; replicated on every rank
  int has_users, has_clicks, has_inventory, has_delivery, has_network, has_sku, has_amount_col;
  /// dictionaries (online-retail and transactions): id -> text, replicated
  char **sku_names;
  int64_t n_sku_names;
  char **region_names;
  int64_t n_region_names;
  int32_t as_of_day;   ///< analysis date (days since epoch), resolved
  int32_t first_day, last_day; ///< range of the valid lines' dates
} sc_dataset;

/// Initialises from a configuration (resolves store and checkpoint paths,
/// creates the summary skeleton).
sc_status run_init(sc_run *run, const sc_config *cfg);
void run_free(sc_run *run);
/// Records a stage's wall time under summary.seconds.<stage>.
void run_time(sc_run *run, const char *stage, double seconds);
/// Records the wall time of one step of a stage under
/// summary.seconds_steps.<stage>.<step> (in the order the steps ran) and
/// restarts the step clock *t: where a stage's time goes, run after run.
void run_step(sc_run *run, const char *stage, const char *step, double *t);
/// Writes summary.json atomically (rank 0).
sc_status run_write_summary(sc_run *run);

void dataset_free(sc_dataset *ds);
/// The text of an sku / region id as the outputs show it (marketplace: the
/// number; others: the dictionary text). buf must hold 256 bytes.
const char *dataset_sku_name(const sc_dataset *ds, int64_t sku, char *buf);
const char *dataset_region_name(const sc_dataset *ds, int32_t region, char *buf);

/// Collective, first thing of a command that writes outputs: creates the
/// output folder, takes its lock (fails with a line naming the holder's
/// host and pid when another run holds it), cleans up after runs that were
/// killed, and creates this run's staging folder. whole = 1: the run's
/// outputs replace the folder's (segcast run); 0: they are merged in (one
/// stage alone: the files it writes are replaced, the others kept).
sc_status out_begin(const sc_run *run, int whole);
/// Opens the staging copy of output <name> for writing (rank 0).
sc_status out_open(const sc_run *run, const char *name, FILE **f);
/// Closes it and records it for publishing.
sc_status out_commit(const sc_run *run, const char *name, FILE *f);
/// Path of a published output, <run.out>/<name> (into buf of SC_PATH_MAX bytes).
const char *out_path(const sc_run *run, const char *name, char *buf);
/// Path where output <name> is written in the staging folder (for files
/// written by libraries or by every rank; the same path on every rank).
const char *out_tmp_path(const sc_run *run, const char *name, char *buf);
/// Path to read output <name> from (rank 0): this run's copy when it wrote
/// one; else, for one stage alone, the published file; for segcast run,
/// the staging path (absent: the previous run's files are not mixed in).
const char *out_read_path(const sc_run *run, const char *name, char *buf);
/// Rank 0: *path (SC_PATH_MAX bytes) gets where to update an existing
/// output in place (results.h5 in segcast clv, the store in segcast
/// forecast): its staging copy, made from the published file the first
/// time and recorded for publishing. name: an output of the folder, or
/// NULL for a file elsewhere (final: its path; the copy is final.tmp).
sc_status out_update_path(const sc_run *run, const char *name, const char *final, char *path);
/// Records output <name>, written at out_tmp_path, for publishing (rank 0).
sc_status out_commit_path(const sc_run *run, const char *name);
/// Path of this run's temporary for a file outside the output folder (a
/// run.store elsewhere): `<final>.tmp-<host>-<pid>`, the same on every rank,
/// so runs into other folders sharing that file do not write each other's.
const char *out_external_tmp(const char *final, char *buf);
/// Records a temporary outside the output folder (a run.store elsewhere),
/// renamed to `final` when the outputs are published (rank 0).
sc_status out_commit_external(const char *tmp, const char *final);
/// Sets summary.outputs: the names of the folder's outputs after this run
/// (rank 0, before summary.json is written).
void out_list_outputs(const sc_run *run);
/// Collective: publishes the staged outputs, summary.json last, and
/// releases the lock.
sc_status out_publish(const sc_run *run);
/// Removes this run's staging folder and releases the lock (called when
/// the run fails; rank 0 acts). A publish that had begun is left for the
/// next run into the folder to finish.
void out_cleanup(void);
/// What comm_fatal runs before MPI_Abort: out_cleanup on rank 0; on another
/// rank (whose abort ends rank 0 before it cleans up) the staging folder and
/// the lock, when the lock still names this run's rank 0.
void out_abort_cleanup(void);
/// Creates a folder and its parents (like mkdir -p).
sc_status sc_mkdirs(const char *path);

/// Progress of a long stage, printed by rank 0 as plain lines (with rate
/// and time left) at most every `every` seconds; on a terminal, in place.
typedef struct {
  char what[96];
  const char *unit;
  double total, t0, last;
  int active;
} sc_progress;
void progress_start(sc_progress *p, const char *what, double total, const char *unit);
/// `done` counts units so far (rank 0's view, or a global count).
void progress_update(sc_progress *p, double done);
void progress_end(sc_progress *p, double done);
/// Prints one line on rank 0 (stdout), prefixed by elapsed time.
void sc_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
