/* main.c: segcast's command line, read as the pipeline's outline.
 *
 *   segcast generate --layout marketplace --out DIR --users N [--seed S]
 *   segcast run      --config FILE [--set section.key=value ...]
 *   segcast ingest | segment | clv | forecast | report   (same options as run)
 *   segcast predict  --model DIR --in FILE --out FILE
 *   segcast keys     [--format ini|markdown|man]
 *
 * Every command runs the same alone, under mpirun or under srun. Outputs
 * are staged and published together at the end (outdir.c). On failure
 * rank 0 prints one line to stderr, the staged outputs are removed (the
 * output folder keeps the previous run's), and the exit status is the
 * error's code.
 */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "checkpoint.h"
#include "comm.h"
#include "stages.h"

static const char *usage =
    "usage: segcast COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  generate --layout marketplace --out DIR --users N [--seed S]\n"
    "                      write a synthetic marketplace data set (same bytes at any rank count)\n"
    "  run --config FILE [--set section.key=value ...]\n"
    "                      the whole job: ingest, segment, clv, forecast, report\n"
    "  ingest|segment|clv|forecast|report --config FILE [--set ...]\n"
    "                      one stage, reading and writing the HDF5 store and the output folder\n"
    "  predict --model DIR --in FILE --out FILE\n"
    "                      assign customers of a feature CSV to the fitted segments\n"
    "  keys [--format ini|markdown|man]\n"
    "                      every configuration key with its type, default and meaning\n"
    "\n"
    "options: --help (also after a command), --version\n"
    "Manual: man segcast\n"
    "Run under MPI with: mpirun -np N segcast run --config configs/default.ini\n";

static const char *stage_usage =
    "usage: segcast %s --config FILE [--set section.key=value ...]\n"
    "  --config FILE   INI configuration (configs/default.ini, small.ini, large.ini)\n"
    "  --set s.k=v     override one key (repeatable); keys: segcast keys, man segcast\n";

/* Reads --config/--set into cfg. */
static sc_status parse_stage_args(int argc, char **argv, const char *cmd, sc_config *cfg, int *help) {
  config_defaults(cfg);
  const char *path = NULL;
  for (int i = 0; i < argc; i++) {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      *help = 1;
      return SC_OK;
    }
    if (!strcmp(argv[i], "--config") && i + 1 < argc) path = argv[++i];
    else if (!strcmp(argv[i], "--set") && i + 1 < argc) i++;
    else return sc_fail(SC_EUSAGE, "segcast %s: unexpected argument '%s' (see segcast %s --help)", cmd, argv[i], cmd);
  }
  if (path) SC_TRY(config_load(cfg, path));
  for (int i = 0; i < argc; i++)
    if (!strcmp(argv[i], "--set")) SC_TRY(config_set(cfg, argv[++i]));
  return config_validate(cfg);
}

static const char *keys_usage =
    "usage: segcast keys [--format ini|markdown|man]\n"
    "  --format ini       every key with its default and meaning, as a configuration file (the default)\n"
    "  --format markdown  the tables of docs/config.md\n"
    "  --format man       the key list of the manual page (segcast.1)\n";

/* `segcast keys`: the configuration table as documentation; needs no MPI,
 * so the build runs it to write the manual page. */
static sc_status cmd_keys(int argc, char **argv) {
  const char *format = "ini";
  for (int i = 0; i < argc; i++) {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      fputs(keys_usage, stdout);
      return SC_OK;
    }
    if (!strcmp(argv[i], "--format") && i + 1 < argc) format = argv[++i];
    else return sc_fail(SC_EUSAGE, "segcast keys: unexpected argument '%s' (see segcast keys --help)", argv[i]);
  }
  SC_TRY(config_write_keys(stdout, format));
  return fflush(stdout) ? sc_fail(SC_EIO, "segcast keys: cannot write to standard output") : SC_OK;
}

/* Loads an earlier summary.json of the output folder so that a stage run
 * alone adds to it instead of losing what earlier stages recorded. */
static void merge_old_summary(sc_run *run) {
  char p[SC_PATH_MAX];
  json_t *old = json_load_file(out_path(run, "summary.json", p), 0, NULL);
  if (!old) return;
  const char *key;
  json_t *v;
  json_object_foreach(old, key, v) {
    if (!strcmp(key, "seconds")) {
      const char *k2;
      json_t *v2;
      json_object_foreach(v, k2, v2) if (strcmp(k2, "total")) run_time(run, k2, json_number_value(v2));
    } else if (strcmp(key, "ranks") && strcmp(key, "threads") && strcmp(key, "version") && strcmp(key, "commit") &&
               strcmp(key, "config")) {
      json_object_set(run->summary, key, v);
    }
  }
  json_decref(old);
}

static int file_exists(const char *p) {
  struct stat st;
  return stat(p, &st) == 0;
}

/* `run` and the single stages. */
static sc_status cmd_pipeline(const char *cmd, int argc, char **argv) {
  sc_config cfg;
  int help = 0;
  SC_TRY(comm_agree(parse_stage_args(argc, argv, cmd, &cfg, &help)));
  if (help) {
    if (comm_rank() == 0) printf(stage_usage, cmd);
    return SC_OK;
  }
  csvtext_set_raw(cfg.csv_raw_text); /* before any CSV is written (csvtext.h) */
  sc_run run;
  SC_TRY(run_init(&run, &cfg));
  int all = !strcmp(cmd, "run");
  sc_status s = out_begin(&run, all);
  sc_say("segcast %s %s: %d rank%s x %d thread%s, output in %s", SEGCAST_VERSION, cmd, run.size,
         run.size > 1 ? "s" : "", run.threads, run.threads > 1 ? "s" : "", cfg.out);
  if (!all) merge_old_summary(&run);

  /* The default job brings its own data: generate it when missing. */
  if (!s && all && cfg.gen_users > 0) {
    char probe[SC_PATH_MAX + 16];
    snprintf(probe, sizeof probe, "%s/orders.csv", cfg.path);
    if (!file_exists(probe)) {
      double t = sc_now();
      sc_say("generate: %lld users into %s", (long long)cfg.gen_users, cfg.path);
      s = generate_marketplace(cfg.path, cfg.gen_users, (uint64_t)cfg.gen_seed);
      run_time(&run, "generate", sc_now() - t);
    } else {
      sc_say("generate: %s already holds data; using it", cfg.path);
    }
  }

  sc_dataset ds;
  memset(&ds, 0, sizeof ds);
  int need_data = all || !strcmp(cmd, "ingest") || !strcmp(cmd, "segment") || !strcmp(cmd, "clv") ||
                  !strcmp(cmd, "forecast");
  if (!s && need_data) {
    double t = sc_now();
    if (all || !strcmp(cmd, "ingest")) {
      s = stage_ingest(&run, &ds);
      run_time(&run, "ingest", sc_now() - t);
    } else {
      s = store_load(&run, &ds);
      run_time(&run, "load", sc_now() - t);
    }
  }
  int do_seg = all || !strcmp(cmd, "segment"), do_fc = (all && cfg.enabled) || !strcmp(cmd, "forecast");
  int do_clv = (all && cfg.clv_enabled) || !strcmp(cmd, "clv");
  if (!s && (do_seg || do_clv || do_fc)) {
    sc_h5 res;
    char tmp[SC_PATH_MAX];
    /* `segcast clv` alone adds its tables to the folder's results.h5 */
    if (!strcmp(cmd, "clv")) s = comm_agree(comm_rank() == 0 ? out_update_path(&run, "results.h5", NULL, tmp) : SC_OK);
    if (!s) s = h5_open_or_create(&res, out_tmp_path(&run, "results.h5", tmp));
    if (!s) {
      if (all) {
        double t = sc_now();
        s = stage_insights(&run, &ds, &res);
        run_time(&run, "insights", sc_now() - t);
      }
      if (!s && do_seg) {
        double t = sc_now();
        s = stage_segment(&run, &ds, &res);
        run_time(&run, "segment", sc_now() - t);
      }
      if (!s && do_clv) {
        double t = sc_now();
        s = stage_clv(&run, &ds, &res);
        run_time(&run, "clv", sc_now() - t);
      }
      if (!s && do_fc) {
        double t = sc_now();
        s = stage_forecast(&run, &ds, &res);
        run_time(&run, "forecast", sc_now() - t);
      }
      sc_status c = h5_close(&res);
      if (!s) s = c;
    }
    if (!s && comm_rank() == 0) s = out_commit_path(&run, "results.h5");
    s = comm_agree(s);
  }
  dataset_free(&ds);
  if (!s && (all || !strcmp(cmd, "report"))) {
    double t = sc_now();
    s = comm_agree(comm_rank() == 0 ? stage_report(&run) : SC_OK);
    run_time(&run, "report", sc_now() - t);
  }
  if (!s) s = comm_agree(run_write_summary(&run));
  if (!s) s = out_publish(&run);
  if (!s) s = checkpoint_finish(&run); /* the run is whole and published: a rerun starts afresh */
  if (!s) sc_say("%s: done in %.2f s; outputs in %s", cmd, sc_now() - run.t_start, cfg.out);
  run_free(&run);
  return s;
}

int main(int argc, char **argv) {
  if (argc >= 2 && !strcmp(argv[1], "--version")) {
    printf("segcast %s (commit %s)\n", SEGCAST_VERSION, sc_commit);
    return 0;
  }
  if (argc >= 2 && !strcmp(argv[1], "keys")) {
    sc_status s = cmd_keys(argc - 2, argv + 2);
    if (s) fprintf(stderr, "segcast: error: %s\n", sc_message());
    return s;
  }
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    fputs(usage, argc < 2 ? stderr : stdout);
    return argc < 2 ? SC_EUSAGE : 0;
  }
  /* Large column buffers come from the heap and stay there once freed:
   * glibc otherwise maps each buffer over 32 MiB afresh and unmaps it on
   * free, and every stage's exchanges and permutations then fault in and
   * zero new pages (a quarter of the 1M-user ingest's time on 2 cores). */
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  mallopt(M_TOP_PAD, 256 << 20);
  signal(SIGXFSZ, SIG_IGN); /* a file-size limit (ulimit -f) fails the write (EFBIG, a clear error), not the process */
  sc_status s = comm_init(&argc, &argv);
  if (s) {
    fprintf(stderr, "segcast: %s\n", sc_message());
    return s;
  }
  checkpoint_install(); /* SIGTERM/SIGUSR1 -> save and exit 75 (checkpoint.h) */
  comm_on_abort(out_abort_cleanup); /* a rank that must stop the job removes this run's staging folder and lock first */
  const char *cmd = argv[1];
  if (!strcmp(cmd, "generate")) s = cmd_generate(argc - 2, argv + 2);
  else if (!strcmp(cmd, "predict")) s = cmd_predict(argc - 2, argv + 2);
  else if (!strcmp(cmd, "run") || !strcmp(cmd, "ingest") || !strcmp(cmd, "segment") || !strcmp(cmd, "clv") ||
           !strcmp(cmd, "forecast") || !strcmp(cmd, "report"))
    s = cmd_pipeline(cmd, argc - 2, argv + 2);
  else s = comm_agree(sc_fail(SC_EUSAGE, "unknown command '%s' (see segcast --help)", cmd));
  if (s) {
    out_cleanup();
    if (comm_rank() == 0) fprintf(stderr, s == SC_CHECKPOINTED ? "segcast: %s\n" : "segcast: error: %s\n", sc_message());
  }
  comm_finalize();
  return s;
}
