/* run.h: the state of one segcast command, shared by every stage.
 *
 * `sc_run` carries the configuration, the rank/thread layout and the one
 * place every result goes: `summary`, a JSON tree (jansson) that becomes
 * summary.json and that the report reads. Stages add their metrics under
 * their own key ("input", "sales", "segment", "forecast", "seconds").
 *
 * Output files are written by rank 0 through out_open/out_commit: a
 * temporary name renamed into place when whole, and every file this run
 * committed is removed again if the run fails (no partial outputs).
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

/// Opens <run.out>/<name> for writing under a temporary name (rank 0).
sc_status out_open(const sc_run *run, const char *name, FILE **f);
/// Closes and renames into place; records it for cleanup on failure.
sc_status out_commit(const sc_run *run, const char *name, FILE *f);
/// Path of an output (into buf of SC_PATH_MAX bytes).
const char *out_path(const sc_run *run, const char *name, char *buf);
/// Path of a temporary for an output (for files written by libraries).
const char *out_tmp_path(const sc_run *run, const char *name, char *buf);
/// Renames a temporary made at out_tmp_path into place and records it.
sc_status out_commit_path(const sc_run *run, const char *name);
/// Removes every output committed by this process and any temporaries
/// (called when the run fails).
void out_cleanup(void);
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
