// A stock reservation without the executor: the writer of reserve_stock and
// of each SKU of place_order (stock/reserve_direct.cpp), on the table-access
// mechanics of access/table_access.hpp; stock/reserve.cpp's slow path is its
// SQL fallback.
#pragma once

#include "pg/pg.hpp"

namespace oc::pg::direct {

// What a reservation starts from. `usable` false: use the SQL path.
// More due claims of a SKU than this (claims past expiry that no one has
// swept): a reservation of it expires them first, through the slow path
// (stock/reserve_direct.cpp, open_write; stock/reserve.cpp, reserve_one), one buyer per SKU at a
// time (LockSpace::DueSweep, only tried).
constexpr int kDueLimit = 64;

struct Probe {
    bool usable = false;
    bool item = false;    // the SKU exists
    int32 buckets = 0;    // its bucket count
    bool replay = false;  // order_ref already has a reservation of this SKU
};
Probe probe(Datum order_ref, Datum sku);

// Reserves `quantity` units of one bucket of `sku` for `order_ref`: the
// bucket's reserved, the reservation row and its claim. `buckets` is the
// item's bucket count: 1, bucket 0 (waiting for its lock); more, the first
// bucket with enough units that no one holds, in the order (bucket +
// offset) % buckets, or else one such bucket waited for (stock/reserve_direct.cpp).
// `usable` false: the SQL fallback must do it (nothing was done). `placed`
// false: no bucket with enough units could be had; then at most bucket 0 of
// a one-bucket item stays locked (after waiting for it, as the SQL path's
// guarded UPDATE leaves it); a striped item locks a bucket row only to
// update it (buyers queue on a bucket's gate lock, which is given back when
// it is not used), so no bucket of it stays locked.
struct Placed {
    bool usable = false;
    bool placed = false;
    int64 reservation_id = 0;
    bool expires_null = true;
    TimestampTz expires_at = 0;
    int64 available = 0;  // the item's available units after the reservation
    double lock_wait_ms = 0;
};
Placed reserve(Datum sku, Datum order_ref, int64 quantity, bool has_ttl, Datum ttl, int32 buckets,
               int32 offset);

// Where a striped reservation starts in the bucket order: differs between
// backends and between calls, so concurrent buyers spread over the buckets.
int32 next_spread();

}  // namespace oc::pg::direct
