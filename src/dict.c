/* dict.c: string interning and the rank-count-independent global ids. */
#include "dict.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "comm.h"

void dict_init(sc_dict *d) { memset(d, 0, sizeof *d); }

void dict_free(sc_dict *d) {
  for (int64_t i = 0; i < d->n; i++) free(d->str[i]);
  free(d->str);
  free(d->len);
  free(d->slots);
  memset(d, 0, sizeof *d);
}

static sc_status dict_rehash(sc_dict *d, int64_t nslots) {
  int64_t *s = NULL;
  SC_TRY(sc_calloc(&s, (size_t)nslots, sizeof *s));
  for (int64_t i = 0; i < d->n; i++) {
    uint64_t h = XXH3_64bits(d->str[i], d->len[i]) & (uint64_t)(nslots - 1);
    while (s[h]) h = (h + 1) & (uint64_t)(nslots - 1);
    s[h] = i + 1;
  }
  free(d->slots);
  d->slots = s;
  d->nslots = nslots;
  return SC_OK;
}

sc_status dict_intern(sc_dict *d, const char *p, size_t len, int64_t *id) {
  if (d->nslots == 0) SC_TRY(dict_rehash(d, 1024));
  uint64_t mask = (uint64_t)(d->nslots - 1), h = XXH3_64bits(p, len) & mask;
  while (d->slots[h]) {
    int64_t i = d->slots[h] - 1;
    if (d->len[i] == len && !memcmp(d->str[i], p, len)) {
      *id = i;
      return SC_OK;
    }
    h = (h + 1) & mask;
  }
  if (d->n == d->cap) {
    int64_t cap = d->cap ? 2 * d->cap : 256;
    SC_TRY(sc_realloc(&d->str, (size_t)cap * sizeof *d->str));
    SC_TRY(sc_realloc(&d->len, (size_t)cap * sizeof *d->len));
    d->cap = cap;
  }
  char *s = NULL;
  SC_TRY(sc_alloc(&s, len + 1));
  memcpy(s, p, len);
  s[len] = 0;
  d->str[d->n] = s;
  d->len[d->n] = (uint32_t)len;
  d->slots[h] = d->n + 1;
  *id = d->n++;
  if (2 * d->n > d->nslots) SC_TRY(dict_rehash(d, 2 * d->nslots));
  return SC_OK;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

sc_status dict_globalize(sc_dict *d, int64_t **remap) {
  size_t bytes = 0;
  for (int64_t i = 0; i < d->n; i++) bytes += d->len[i] + 1;
  char *blob = NULL, *all = NULL;
  char **list = NULL;
  size_t all_n = 0;
  sc_status s = sc_alloc(&blob, bytes + 1);
  size_t o = 0;
  for (int64_t i = 0; !s && i < d->n; i++) {
    memcpy(blob + o, d->str[i], d->len[i] + 1);
    o += d->len[i] + 1;
  }
  s = comm_agree(s);
  if (!s) s = comm_allgatherv(blob, bytes, (void **)&all, &all_n, NULL);
  free(blob);
  int64_t cnt = 0;
  for (size_t i = 0; !s && i < all_n; i++) cnt += all[i] == 0;
  if (!s) s = sc_alloc(&list, (size_t)(cnt + 1) * sizeof *list);
  if (!s) {
    int64_t k = 0;
    for (size_t i = 0; i < all_n; i += strlen(all + i) + 1) list[k++] = all + i;
    if (cnt > 1) qsort(list, (size_t)cnt, sizeof *list, cmp_str);
    int64_t u = 0;
    for (int64_t i = 0; i < cnt; i++)
      if (u == 0 || strcmp(list[u - 1], list[i])) list[u++] = list[i];
    sc_dict g;
    dict_init(&g);
    int64_t id;
    for (int64_t i = 0; !s && i < u; i++) s = dict_intern(&g, list[i], strlen(list[i]), &id);
    if (!s) s = sc_alloc(remap, (size_t)(d->n + 1) * sizeof **remap);
    for (int64_t i = 0; !s && i < d->n; i++) s = dict_intern(&g, d->str[i], d->len[i], &(*remap)[i]);
    dict_free(d);
    *d = g;
  }
  free(list);
  free(all);
  return comm_agree(s);
}

void dict_release(sc_dict *d, char ***strs, int64_t *n) {
  *strs = d->str;
  *n = d->n;
  d->str = NULL;
  d->n = 0;
  dict_free(d);
}
