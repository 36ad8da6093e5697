/* keymap.c: first-seen dense indices of (int64, int32) keys (keymap.h). */
#include "keymap.h"

#include <stdlib.h>
#include <string.h>

#include "segcast.h"

struct keymap_slot {
  int64_t a;
  int32_t b;
  int32_t idx; /* -1: empty */
};

static uint64_t key_hash(int64_t a, int32_t b) { return sc_mix64((uint64_t)a * 0x100000001B3ULL ^ (uint64_t)(uint32_t)b); }

void keymap_init(keymap *m) { memset(m, 0, sizeof *m); }

static int keymap_grow(keymap *m) {
  int64_t cap = m->cap ? m->cap * 2 : 1024;
  struct keymap_slot *s = malloc((size_t)cap * sizeof *s);
  int64_t *a = realloc(m->a, (size_t)cap * sizeof *a);
  if (a) m->a = a;
  int32_t *b = a ? realloc(m->b, (size_t)cap * sizeof *b) : NULL;
  if (b) m->b = b;
  if (!s || !a || !b) {
    free(s);
    return -1;
  }
  for (int64_t i = 0; i < cap; i++) s[i].idx = -1;
  for (int64_t i = 0; i < m->cap; i++) {
    if (m->slot[i].idx < 0) continue;
    uint64_t h = key_hash(m->slot[i].a, m->slot[i].b) & (uint64_t)(cap - 1);
    while (s[h].idx >= 0) h = (h + 1) & (uint64_t)(cap - 1);
    s[h] = m->slot[i];
  }
  free(m->slot);
  m->slot = s;
  m->cap = cap;
  return 0;
}

int32_t keymap_get(keymap *m, int64_t a, int32_t b) {
  if (2 * (m->n + 1) > m->cap && keymap_grow(m)) return -1;
  uint64_t h = key_hash(a, b) & (uint64_t)(m->cap - 1);
  while (m->slot[h].idx >= 0) {
    if (m->slot[h].a == a && m->slot[h].b == b) return m->slot[h].idx;
    h = (h + 1) & (uint64_t)(m->cap - 1);
  }
  m->slot[h] = (struct keymap_slot){a, b, (int32_t)m->n};
  m->a[m->n] = a;
  m->b[m->n] = b;
  return (int32_t)m->n++;
}

void keymap_free(keymap *m) {
  free(m->slot);
  free(m->a);
  free(m->b);
  memset(m, 0, sizeof *m);
}
