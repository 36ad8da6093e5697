/* predict.c: `segcast predict --model DIR --in FILE --out FILE`.
 *
 * Reads DIR/kmeans_model.json and a customer feature CSV with the
 * columns of customer_segments.csv (any order, extra columns ignored;
 * user_id and the model's features are required), standardizes each row
 * with the saved transform and assigns it to the nearest centroid with the
 * same kernel as training (km_nearest), so the training customers get
 * their training clusters back. Writes user_id,cluster,cluster_name in
 * input order to a temporary name, renamed into place when whole.
 * Rank 0 does the work; under mpirun the other ranks wait.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "comm.h"
#include "segment_model.h"
#include "stages.h"

static const char *predict_usage =
    "usage: segcast predict --model DIR --in FILE --out FILE\n"
    "  --model DIR   output folder of a segcast run (holds kmeans_model.json)\n"
    "  --in FILE     customer feature CSV: user_id and the model's features, as in customer_segments.csv\n"
    "  --out FILE    where to write user_id,cluster,cluster_name (one row per input row)\n";

/* Splits one CSV record (no trailing newline) in place into fields;
 * returns the count, or -1 on a malformed quote. */
static int csv_split(char *line, char **field, int max) {
  int n = 0;
  char *p = line;
  for (;;) {
    if (n == max) return n + 1;
    if (*p == '"') {
      char *o = ++p, *start = o;
      for (;;) {
        if (!*p) return -1;
        if (*p == '"') {
          if (p[1] == '"') {
            *o++ = '"';
            p += 2;
            continue;
          }
          p++;
          break;
        }
        *o++ = *p++;
      }
      if (*p && *p != ',') return -1;
      field[n++] = start;
      char *next = *p ? p + 1 : NULL;
      *o = 0;
      if (!next) return n;
      p = next;
    } else {
      field[n++] = p;
      char *c = strchr(p, ',');
      if (!c) return n;
      *c = 0;
      p = c + 1;
    }
  }
}

/* Reads one line into *buf (grown as needed); strips \n and \r. */
static ssize_t read_line(FILE *f, char **buf, size_t *cap) {
  ssize_t n = getline(buf, cap, f);
  if (n < 0) return n;
  while (n > 0 && ((*buf)[n - 1] == '\n' || (*buf)[n - 1] == '\r')) (*buf)[--n] = 0;
  return n;
}

static sc_status predict_file(const char *model_dir, const char *in, const char *out) {
  char path[4096];
  snprintf(path, sizeof path, "%s/kmeans_model.json", model_dir);
  seg_model m;
  SC_TRY(seg_model_read(path, &m));
  FILE *fi = fopen(in, "rb");
  if (!fi) {
    seg_model_free(&m);
    return sc_fail(SC_EINPUT, "cannot read %s: %s", in, strerror(errno));
  }
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp", out);
  FILE *fo = fopen(tmp, "wb");
  if (!fo) {
    fclose(fi);
    seg_model_free(&m);
    return sc_fail(SC_EIO, "cannot create %s: %s", tmp, strerror(errno));
  }
  char *line = NULL, *field[256];
  size_t cap = 0;
  int col[KM_MAX_D], ucol = -1, nf = 0;
  sc_status s = SC_OK;
  if (read_line(fi, &line, &cap) < 0) s = sc_fail(SC_EINPUT, "%s is empty: it needs a header row", in);
  if (!s) {
    nf = csv_split(line, field, 256);
    if (nf < 0 || nf > 256) s = sc_fail(SC_EINPUT, "%s line 1: the header is not a CSV row of at most 256 columns", in);
  }
  for (int j = 0; !s && j < m.d; j++) {
    col[j] = -1;
    for (int c = 0; c < nf; c++)
      if (!strcmp(field[c], seg_feature_name[m.feat[j]])) col[j] = c;
  }
  for (int c = 0; !s && c < nf; c++)
    if (!strcmp(field[c], "user_id")) ucol = c;
  if (!s) {
    char missing[1024] = "";
    if (ucol < 0) strcat(missing, " user_id");
    for (int j = 0; j < m.d; j++)
      if (col[j] < 0) {
        strcat(missing, " ");
        strcat(missing, seg_feature_name[m.feat[j]]);
      }
    if (missing[0])
      s = sc_fail(SC_EINPUT, "%s has no column%s for:%s (the model needs user_id and its features, as in "
                             "customer_segments.csv)",
                  in, strchr(missing + 1, ' ') ? "s" : "", missing);
  }
  if (!s) fputs("user_id,cluster,cluster_name\n", fo);
  int64_t lineno = 1, rows = 0;
  while (!s && read_line(fi, &line, &cap) >= 0) {
    lineno++;
    if (!line[0]) continue;
    int n = csv_split(line, field, 256);
    if (n != nf) {
      s = sc_fail(SC_EINPUT, "%s line %lld: %d fields where the header has %d: fix the row", in, (long long)lineno, n,
                  nf);
      break;
    }
    double z[KM_MAX_D];
    for (int j = 0; j < m.d && !s; j++) {
      const char *v = field[col[j]];
      char *end = NULL;
      errno = 0;
      double x = *v ? strtod(v, &end) : 0;
      if (!*v || *end || errno || !(x > -1) || x != x)
        s = sc_fail(SC_EINPUT, "%s line %lld: %s = '%s' is not a number above -1: fix the value", in,
                    (long long)lineno, seg_feature_name[m.feat[j]], v);
      else z[j] = seg_transform(x, m.mean[j], m.std[j]);
    }
    if (s) break;
    int c = km_nearest(z, m.d, m.C, m.k);
    out_csv_field(fo, field[ucol]); /* the input's text: quoted and guarded as every CSV output's */
    fprintf(fo, ",%d,", c);
    out_csv_field(fo, m.name[c]);
    fputc('\n', fo);
    rows++;
  }
  free(line);
  fclose(fi);
  int bad = ferror(fo);
  if (fclose(fo) || bad) s = s ? s : sc_fail(SC_EIO, "writing %s failed: check free disk space", tmp);
  if (!s && rename(tmp, out)) s = sc_fail(SC_EIO, "cannot rename %s to %s: %s", tmp, out, strerror(errno));
  if (s) unlink(tmp);
  else fprintf(stdout, "predict: %lld customers assigned to %d segments, written to %s\n", (long long)rows, m.k, out);
  seg_model_free(&m);
  return s;
}

sc_status cmd_predict(int argc, char **argv) {
  const char *model = NULL, *in = NULL, *out = NULL;
  sc_status s = SC_OK;
  int help = 0;
  for (int i = 0; i < argc && !s && !help; i++) {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) help = 1;
    else if (!strcmp(argv[i], "--model") && i + 1 < argc) model = argv[++i];
    else if (!strcmp(argv[i], "--in") && i + 1 < argc) in = argv[++i];
    else if (!strcmp(argv[i], "--out") && i + 1 < argc) out = argv[++i];
    else s = sc_fail(SC_EUSAGE, "segcast predict: unexpected argument '%s' (see segcast predict --help)", argv[i]);
  }
  if (help) {
    if (comm_rank() == 0) fputs(predict_usage, stdout);
    return SC_OK;
  }
  if (!s && (!model || !in || !out))
    s = sc_fail(SC_EUSAGE, "segcast predict needs --model DIR, --in FILE and --out FILE (see segcast predict --help)");
  if (!s && comm_rank() == 0) s = predict_file(model, in, out);
  return comm_agree(s);
}
