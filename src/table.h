/* table.h: a table is a struct of arrays (one array per named column).
 *
 * All data between stages travels as sc_table: ingest fills them, the
 * store writes and reads them (one HDF5 dataset per column), and the
 * partitioning step moves whole rows between ranks with one Alltoallv per
 * column. The named tables and their columns are listed below; stages use
 * table_col() or the typed accessors to reach a column.
 */
#ifndef SEGCAST_TABLE_H
#define SEGCAST_TABLE_H

#include <stdint.h>

#include "segcast.h"

typedef enum { SC_U8 = 0, SC_I32 = 1, SC_I64 = 2, SC_F64 = 3 } sc_coltype;

#define SC_TABLE_MAXCOLS 24

typedef struct {
  char name[32];
  sc_coltype type;
  void *data;
} sc_column;

typedef struct {
  char name[32];
  int64_t n;    ///< rows held on this rank
  int64_t cap;  ///< rows allocated
  int ncols;
  sc_column cols[SC_TABLE_MAXCOLS];
} sc_table;

/// Rows of capacity past its rows that table_exchange and table_permute
/// leave in every column they make (address space only: pages never written
/// cost nothing). The store writer completes there the chunk a rank shares
/// with the next one (h5.c) instead of copying the whole column.
#define SC_TABLE_SPARE_ROWS ((int64_t)1 << 18)

/// Bytes of one element of a column type.
size_t coltype_size(sc_coltype t);

/// Makes an empty table from a spec "name:type,name:type,..." where type is
/// u8, i32, i64 or f64.
sc_status table_init(sc_table *t, const char *name, const char *spec);
/// Frees every column; the table can be re-initialised.
void table_free(sc_table *t);
/// Ensures room for `rows` rows (keeps contents).
sc_status table_reserve(sc_table *t, int64_t rows);
/// Sets the row count, growing as needed (new rows are uninitialised).
sc_status table_resize(sc_table *t, int64_t rows);
/// The column's data, or NULL when the table has no such column.
void *table_col(const sc_table *t, const char *name);
/// Index of a column, or -1.
int table_col_index(const sc_table *t, const char *name);
/// Typed accessors that record an SC_EINTERNAL failure on a missing column
/// or a type mismatch, so a caller can `if (!(p = table_i64(...))) return ...`.
int64_t *table_i64(const sc_table *t, const char *name);
int32_t *table_i32(const sc_table *t, const char *name);
double *table_f64(const sc_table *t, const char *name);
uint8_t *table_u8(const sc_table *t, const char *name);

/// Appends all rows of `src` (same columns, same order) to `dst`.
sc_status table_append(sc_table *dst, const sc_table *src);
/// Reorders rows: row i of the result is row perm[i] of the input. perm
/// may select a subset (n_out rows).
sc_status table_permute(sc_table *t, const int64_t *perm, int64_t n_out);
/// Sorts rows by up to three int64 key columns ascending (stable). Keys
/// named NULL are skipped. Uses OpenMP.
sc_status table_sort(sc_table *t, const char *k1, const char *k2, const char *k3);

/// Collective: sends row i to rank dest[i] (0..size-1). Afterwards each rank
/// holds the rows sent to it, in source-rank order, then source order.
sc_status table_exchange(sc_table *t, const int32_t *dest);

/// Collective: every rank ends up with all rows of every rank, in rank
/// order (for small replicated tables such as the DC network).
sc_status table_allgather(sc_table *t);
/// Removes the last column (a working column added for ingest only).
void table_drop_last(sc_table *t);

/* ---- the named tables of the store ----------------------------------- */

/// Flags of a line (column "flags" of the lines table).
enum {
  SC_LINE_VALID = 1,      ///< a sale (DATA.md 2)
  SC_LINE_RETURN = 2,     ///< quantity < 0 (or amount < 0, transactions)
  SC_LINE_CANCELLED = 4,  ///< online-retail invoice starting with C
  SC_LINE_NONPRODUCT = 8  ///< online-retail stock code not a product
};

/// Sentinels for missing values.
#define SC_NO_DAY INT32_MIN
#define SC_NO_TS INT64_MIN
#define SC_NO_I32 INT32_MIN

/// "lines": every loaded order line, partitioned by user (hash of user_id;
/// lines without a user by hash of row). Sorted by (user_id, row).
///   row        global source position: (file index << 40) | line number
///   user_id    0 when the line has no user
///   order_id   online-retail: invoice digits; 'C' prefix sets the flag
///   sku        marketplace sku_id; online-retail/transactions: dictionary
///              id of the sku text (dict "sku"); -1 when the layout has none
///   region     marketplace region_id of dc_ori (-1 when dc_ori is not in
///              network.csv); others: dictionary id (dict "region")
///   day, sec   date as days since 1970-01-01; seconds since midnight
///   quantity   units (transactions without quantity: 1)
///   amount     quantity x final unit price (transactions: the amount)
///   orig_amount quantity x original unit price (= amount outside marketplace)
///   arr_ts     delivery arrival, seconds since epoch (SC_NO_TS: none)
///   flags      SC_LINE_* bits
#define SC_LINES_SPEC                                                                                          \
  "row:i64,user_id:i64,order_id:i64,sku:i64,region:i32,day:i32,sec:i32,quantity:i32,amount:f64,orig_amount:f64," \
  "arr_ts:i64,flags:u8"

/// "users" (marketplace): partitioned like lines, sorted by user_id.
///   created_day SC_NO_DAY when empty; age, city_level SC_NO_I32 when empty;
///   gender 0 (empty), 'M', 'F', 'U'.
#define SC_USERS_SPEC "row:i64,user_id:i64,created_day:i32,age:i32,gender:u8,city_level:i32"

/// "clicks" (marketplace): partitioned like lines, sorted by (user_id, row).
#define SC_CLICKS_SPEC "row:i64,user_id:i64,sku:i64,day:i32"

/// "inventory" (marketplace): per (sku, region, day) the number of the
/// region's DCs with available_flag = 1 (rows with 0 such DCs are kept when
/// a snapshot row exists). Partitioned by hash of (sku, region).
#define SC_INVENTORY_SPEC "sku:i64,region:i32,day:i32,available_dcs:i32"

/// "network": dc_id -> region_id (small; every rank holds all of it).
#define SC_NETWORK_SPEC "dc_id:i64,region_id:i32"

/// The rank in [0, size) of a well-mixed 64-bit hash: the high half of
/// hash x size (a multiply where a 64-bit modulo was a division per row).
static inline int32_t rank_of_hash(uint64_t h, int size) {
  return (int32_t)(((unsigned __int128)h * (uint64_t)size) >> 64);
}
/// Partition rank of a user id (lines, users, clicks) among `size` ranks.
static inline int32_t part_user(int64_t user_id, int size) { return rank_of_hash(sc_mix64((uint64_t)user_id), size); }
/// Partition rank of a demand series (sku, region).
static inline int32_t part_series(int64_t sku, int32_t region, int size) {
  return rank_of_hash(sc_mix64((uint64_t)sku * 0x100000001B3ULL ^ (uint64_t)(uint32_t)region), size);
}

#endif
