/* keymap.h: (int64, int32) keys to dense indices 0, 1, 2, ... in
 * first-seen order, through an open-addressing table that doubles as it
 * fills (the numeric sibling of dict.h). The demand table numbers its
 * (sku, region) series with it; the ingest gives catalog sku ids dense
 * indices (region 0) before summing stock rows in a dense array.
 */
#ifndef SEGCAST_KEYMAP_H
#define SEGCAST_KEYMAP_H

#include <stdint.h>

typedef struct {
  struct keymap_slot *slot;
  int64_t cap, n;  ///< slots, keys held
  int64_t *a;      ///< index -> the key's first part
  int32_t *b;      ///< index -> its second part
} keymap;

/// An empty map (no memory taken until the first key).
void keymap_init(keymap *m);
/// The index of (a, b), added as the next index when new; -1 on no memory.
int32_t keymap_get(keymap *m, int64_t a, int32_t b);
void keymap_free(keymap *m);

#endif
