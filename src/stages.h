/* stages.h: the pipeline's stages and the commands built on them.
 *
 * Data flows one way: CSV -> store (ingest) -> features, scores, clusters
 * (segment); store -> demand table -> trees (forecast); results -> report.
 * Each stage takes the run state and what the previous stage produced, and
 * adds its metrics to run->summary. All are collective.
 */
#ifndef SEGCAST_STAGES_H
#define SEGCAST_STAGES_H

#include "h5.h"
#include "run.h"

/// `segcast generate ...`: parses its own options (argv after "generate").
sc_status cmd_generate(int argc, char **argv);
/// Generates the marketplace data set of `users` users into folder `out`.
sc_status generate_marketplace(const char *out, int64_t users, uint64_t seed);

/// Reads the configured input (CSV) in parallel, cleans it, writes the
/// store (run->store_path) and leaves the partitioned data in *ds.
/// Writes rejects.csv; adds "input" and "sales" to the summary.
sc_status stage_ingest(sc_run *run, sc_dataset *ds);
/// Loads the store into *ds at the current rank count (any rank count
/// may have written it); refuses an incompatible schema version.
sc_status store_load(sc_run *run, sc_dataset *ds);

/// Customer features, RFM, k-means with model selection, profiles; writes
/// the segmentation outputs and their tables into `results`.
sc_status stage_segment(sc_run *run, const sc_dataset *ds, sc_h5 *results);
/// Customer lifetime value and churn (DATA.md 8): BG/NBD and Gamma-Gamma
/// fitted over every customer, per-customer predictions; writes clv.csv,
/// its tables in `results` and CLV columns in the segment CSVs present.
sc_status stage_clv(sc_run *run, const sc_dataset *ds, sc_h5 *results);
/// Demand table and boosted trees; writes the forecast outputs and tables.
sc_status stage_forecast(sc_run *run, const sc_dataset *ds, sc_h5 *results);
/// Business insights from the lines (monthly revenue, cohorts, revenue
/// concentration, top products and regions, the daily sales fact table):
/// BI-ready CSVs, their tables in `results` and numbers in the summary.
sc_status stage_insights(sc_run *run, const sc_dataset *ds, sc_h5 *results);
/// Writes report.html from the results in run->cfg.out (rank 0 work).
sc_status stage_report(sc_run *run);
/// `segcast predict --model DIR --in FILE --out FILE`.
sc_status cmd_predict(int argc, char **argv);

#endif
