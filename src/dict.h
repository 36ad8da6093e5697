/* dict.h: string dictionaries (stock codes, countries, regions as text).
 *
 * Each thread interns strings into its own dictionary while parsing; the
 * dictionaries are then merged, and dict_globalize makes the ids the same
 * on every rank whatever the rank count: the global id of a string is its
 * position in the byte-wise sorted list of all distinct strings.
 */
#ifndef SEGCAST_DICT_H
#define SEGCAST_DICT_H

#include <stddef.h>
#include <stdint.h>

#include "segcast.h"

typedef struct {
  char **str;       ///< id -> NUL-terminated text
  uint32_t *len;    ///< id -> length (texts may not contain NUL)
  int64_t n, cap;
  int64_t *slots;   ///< open addressing: id + 1, 0 = empty
  int64_t nslots;
} sc_dict;

void dict_init(sc_dict *d);
void dict_free(sc_dict *d);
/// The id of a text, adding it when new.
sc_status dict_intern(sc_dict *d, const char *p, size_t len, int64_t *id);
/// Collective: replaces d by the global sorted dictionary of every rank's
/// strings; remap (allocated, d->n entries before the call) maps old ids to
/// global ids.
sc_status dict_globalize(sc_dict *d, int64_t **remap);
/// Moves the strings out as a plain array (d is emptied).
void dict_release(sc_dict *d, char ***strs, int64_t *n);

#endif
