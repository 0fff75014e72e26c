// What the stock files share (stock/reserve.cpp: reservations;
// stock/stock.cpp: levels, commit, release and the expire step): how a
// reservation's parts are stored, the bucket locks and levels, the result
// rows, and the stock errors. Every function may raise (core::Error or
// PgError through pg_call).
#pragma once

#include <string>
#include <vector>

#include "core/stock.hpp"
#include "pg/common.hpp"
#include "pg/spi.hpp"

// A reservation's or claim's parts as stored: NULL for all units from
// bucket 0 (the common case, see reservations and reservation_claims in
// sql/20_stock.sql), and read back as arrays. OC_PARTS_STORED takes the
// two array expressions; the others a row's qualifier `p` with its dot, or "".
#define OC_PARTS_STORED(b, q) \
    "nullif(" b ", '{0}'), CASE WHEN " b " = '{0}' THEN NULL ELSE " q " END"
#define OC_CLAIM_STORED(p) OC_PARTS_STORED(p "part_buckets", p "part_qty")
#define OC_CLAIM_BUCKETS(p) "coalesce(" p "part_buckets, '{0}') AS part_buckets"
#define OC_CLAIM_PARTS(p) \
    OC_CLAIM_BUCKETS(p) ", coalesce(" p "part_qty, ARRAY[" p "quantity]) AS part_qty"

// The threshold rule (core::crossing) for each row of an UPDATE of
// stock_buckets aliased s: a RETURNING item that calls
// order_credit._stock_crossed (pg/notify.cpp) for the rows with a threshold
// only. `units` is what the update added to the bucket's available units
// (negative: took), as SQL over the FROM list; RETURNING sees the new row.
#define OC_BUCKET_CROSSED(units)                                                             \
    "CASE WHEN s.alert_below IS NOT NULL THEN order_credit._stock_crossed(s.sku, s.bucket, " \
    "(s.on_hand - s.reserved) - (" units ")::bigint, s.on_hand - s.reserved, s.alert_below) END"

namespace oc::pg::buckets {

[[noreturn]] void item_not_found(const std::string &sku);
[[noreturn]] void reservation_not_found(const std::string &order_ref);

// A non-NULL argument (22004 otherwise).
int64_t arg_int8(const Args &args, int i, const char *what);
int32 arg_int4(const Args &args, int i, const char *what);

// Every bucket of the SKU locked in bucket order (waiting): one row per
// bucket (bucket, on_hand, reserved).
Rows lock_buckets(Datum sku);

// Locks every bucket of the SKU in bucket order (waiting), with `expire`
// expires its due reservations, and returns the levels (exact with
// `expire`). A re-stripe that committed while we waited shows as a bucket
// count that differs from the item's: lock again.
std::vector<core::BucketLevel> lock_all_buckets(Datum sku_d, const std::string &sku,
                                                bool expire = true);

// With every bucket of the SKU locked: deletes the claims of its due
// reservations, gives their units back to their buckets, and returns the
// levels after that (exact).
std::vector<core::BucketLevel> expire_sku_due(Datum sku);

// The stock_level row of a SKU (none: no such item).
Rows status_row(Datum sku);

// Reservations as callers see them (stock_reservation): order_ref's of one
// SKU, or all of its reservations in SKU order.
Rows reservation_result(Datum order_ref, Datum sku);
Rows order_reservations_result(Datum order_ref);

}  // namespace oc::pg::buckets
