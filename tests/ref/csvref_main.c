/* csvref_main.c: the reference reader on a marketplace file, for scripts.
 *
 * usage: csvref_clean FILE_KIND IN OUT_CSV OUT_REJECTS [MAX_LINES]
 * FILE_KIND is users, orders, clicks, delivery, inventory, network or skus:
 * the columns and value rules segcast's marketplace converters check, in
 * their order (DATA.md 1a, 2 and 7; written here from the spec, not from
 * src/ingest.c). Writes the rows that read well to OUT_CSV (the header's
 * fields, then each row's fields, quoted where they hold ',', '"', '\n' or
 * '\r', so pandas reads them back as they were), every malformed row to
 * OUT_REJECTS as "line<TAB>reason<TAB>raw" (raw with '\' and control
 * bytes written \xNN), and the line counts as one JSON line on stdout:
 * {"lines": L, "blank": B, "read": R, "rejected": J, "continuation_lines": C}.
 * A whole-file error is printed and exits 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csvref.h"

#define I32_LO (-2147483647LL)
#define I32_HI 2147483647LL

static int schema_of(const char *kind, csvref_schema *s) {
  memset(s, 0, sizeof *s);
  static const csvref_col users[] = {{"user_id", REF_ID, 0, 1, 0, NULL},
                                     {"created_at", REF_DATE, 1, 1, 0, NULL},
                                     {"age", REF_INT, 1, 0, 120, NULL},
                                     {"gender", REF_ENUM, 1, 1, 0, "MFU"},
                                     {"city_level", REF_INT, 1, 1, 5, NULL}};
  static const csvref_col orders[] = {{"order_id", REF_ID, 0, 1, 0, NULL},
                                      {"user_id", REF_ID, 0, 1, 0, NULL},
                                      {"sku_id", REF_ID, 0, 1, 0, NULL},
                                      {"order_time", REF_DATETIME, 0, 1, 0, NULL},
                                      {"quantity", REF_INT, 0, I32_LO, I32_HI, NULL},
                                      {"original_unit_price", REF_DEC, 0, 1, 0, NULL},
                                      {"final_unit_price", REF_DEC, 0, 1, 0, NULL},
                                      {"dc_ori", REF_ID, 0, 1, 0, NULL}};
  static const csvref_col clicks[] = {{"user_id", REF_ID, 0, 1, 0, NULL},
                                      {"sku_id", REF_ID, 0, 1, 0, NULL},
                                      {"ts", REF_DATETIME, 0, 1, 0, NULL}};
  static const csvref_col delivery[] = {{"order_id", REF_ID, 0, 1, 0, NULL},
                                        {"ship_time", REF_DATETIME, 1, 1, 0, NULL},
                                        {"arr_time", REF_DATETIME, 1, 1, 0, NULL}};
  static const csvref_col inventory[] = {{"date", REF_DATE, 0, 1, 0, NULL},
                                         {"dc_id", REF_ID, 0, 1, 0, NULL},
                                         {"sku_id", REF_ID, 0, 1, 0, NULL},
                                         {"available_flag", REF_INT, 0, 0, 1, NULL}};
  static const csvref_col network[] = {{"dc_id", REF_ID, 0, 1, 0, NULL}, {"region_id", REF_INT, 0, 0, I32_HI, NULL}};
  static const csvref_col skus[] = {{"sku_id", REF_ID, 0, 1, 0, NULL}, {"brand_id", REF_INT, 1, 1, 0, NULL}};
  static const struct {
    const char *name;
    const csvref_col *cols;
    int n;
  } kinds[] = {{"users", users, 5},           {"orders", orders, 8},   {"clicks", clicks, 3}, {"delivery", delivery, 3},
               {"inventory", inventory, 4}, {"network", network, 2}, {"skus", skus, 2}};
  for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
    if (!strcmp(kind, kinds[k].name)) {
      s->ncols = kinds[k].n;
      memcpy(s->col, kinds[k].cols, sizeof *s->col * (size_t)kinds[k].n);
      return 0;
    }
  return -1;
}

static void csv_field_out(FILE *f, const char *p, size_t n) {
  int q = 0;
  for (size_t i = 0; i < n; i++) q |= p[i] == ',' || p[i] == '"' || p[i] == '\n' || p[i] == '\r';
  if (!q) {
    fwrite(p, 1, n, f);
    return;
  }
  fputc('"', f);
  for (size_t i = 0; i < n; i++) {
    if (p[i] == '"') fputc('"', f);
    fputc(p[i], f);
  }
  fputc('"', f);
}

int main(int argc, char **argv) {
  csvref_schema sch;
  if (argc < 5 || schema_of(argv[1], &sch)) {
    fprintf(stderr, "usage: csvref_clean users|orders|clicks|delivery|inventory|network|skus IN OUT_CSV OUT_REJECTS [MAX_LINES]\n");
    return 2;
  }
  FILE *in = fopen(argv[2], "rb");
  if (!in) {
    perror(argv[2]);
    return 2;
  }
  fseek(in, 0, SEEK_END);
  long n = ftell(in);
  fseek(in, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  if (fread(buf, 1, (size_t)n, in) != (size_t)n) return 2;
  fclose(in);
  csvref_result r;
  if (csvref_read(buf, (size_t)n, &sch, argc > 5 ? atoll(argv[5]) : 10000, &r)) {
    printf("csvref_clean: %s: %s\n", argv[2], r.error);
    return 1;
  }
  FILE *out = fopen(argv[3], "wb"), *rej = fopen(argv[4], "wb");
  if (!out || !rej) return 2;
  /* the header: the first row's width, named by the file's own header line */
  const char *h = buf + ((size_t)n >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3) ? 3 : 0);
  const char *he = memchr(h, '\n', (size_t)(buf + n - h));
  size_t hl = (size_t)((he ? he : buf + n) - h);
  while (hl && h[hl - 1] == '\r') hl--;
  fwrite(h, 1, hl, out);
  fputc('\n', out);
  for (int64_t i = 0; i < r.n; i++) {
    const csvref_rec *x = &r.rec[i];
    if (x->kind == REF_ROW) {
      for (int k = 0; k < x->nf; k++) {
        if (k) fputc(',', out);
        csv_field_out(out, x->field[k], x->flen[k]);
      }
      fputc('\n', out);
    } else {
      fprintf(rej, "%lld\t%s\t", (long long)x->line, x->reason);
      for (size_t k = 0; k < x->rawlen; k++) {
        unsigned char c = (unsigned char)x->raw[k];
        if (c < 32 || c == '\\' || c >= 127) fprintf(rej, "\\x%02X", c);
        else fputc(c, rej);
      }
      fputc('\n', rej);
    }
  }
  fclose(out);
  fclose(rej);
  printf("{\"lines\": %lld, \"blank\": %lld, \"read\": %lld, \"rejected\": %lld, \"continuation_lines\": %lld}\n",
         (long long)r.lines, (long long)r.blank, (long long)r.read, (long long)r.rejected, (long long)r.cont);
  csvref_free(&r);
  free(buf);
  return 0;
}
