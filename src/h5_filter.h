/* h5_filter.h: replacing one of HDF5's predefined filters by a copy of its
 * class with another filter function (h5_scaleoffset.c, h5_deflate.c).
 * Private to the h5_*.c files: it brings in hdf5.h. */
#ifndef SEGCAST_H5_FILTER_H
#define SEGCAST_H5_FILTER_H

#include <hdf5.h>

/// HDF5's own filter class exported as `symbol` (e.g. "H5Z_DEFLATE"), when
/// this HDF5 exports it with filter id `id`; NULL otherwise.
const H5Z_class2_t *h5_builtin_filter(const char *symbol, int id);
/// Registers cls in place of the class of its filter id through HDF5's
/// internal H5Z_register (H5Zregister refuses predefined ids). 1 when done.
int h5_replace_filter(const H5Z_class2_t *cls);

/// What every h5_fast_* does: looks up HDF5's class `symbol` (id) into
/// *builtin once, then registers a copy of it with filter function fn
/// (kept in *fast) when on, or HDF5's own class again when off. Returns on
/// when that class is now registered, 0 when this HDF5 does not allow it.
int h5_swap_filter(const char *symbol, int id, const H5Z_class2_t **builtin, H5Z_class2_t *fast, H5Z_func_t fn,
                   int on);

#endif
