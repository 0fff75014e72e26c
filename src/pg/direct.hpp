// Direct table access for the hottest write of the extension: reserving
// units of an item (reserve_stock on an ordinary SKU, or one bucket of a
// striped one).
//
// The SQL path plans nothing per call (kept plans) but still pays, per call,
// executor start-up of a probe join and of a five-part data-modifying CTE
// (ModifyTable, CTE scans, an aggregate), plan-cache revalidation, and the
// row checks' CHECK text re-read per written table. Measured with callgrind
// (docs/benchmarks.md), that was ~487k instructions per reservation against
// ~252k for the plain-SQL UPDATE + INSERT it is compared with.
//
// This path does the same work with the table access method and the
// indexes directly, as PostgreSQL's logical replication apply does: rows are
// found through their unique indexes under a fresh snapshot (the snapshot a
// statement would take), the bucket is locked with table_tuple_lock (in READ
// COMMITTED the newest version, as UPDATE's EvalPlanQual does; in
// REPEATABLE READ or SERIALIZABLE a concurrent update is 40001), the guard
// is evaluated on the locked version, and the new rows go through
// table_tuple_insert / simple_table_tuple_update + ExecInsertIndexTuples
// (unique checks, partial indexes). The table's rules are enforced by the
// same row check as its CHECK constraint (pg/row_checks.hpp), and NOT NULL
// by the columns' attnotnull.
//
// It is used only while every table it writes is exactly as the extension
// created it: a plain heap table (not a partition, the heap access method,
// no row-level security, no rule), the expected columns and types, the one
// row check with the install script's expression, the column defaults as
// created, no NOT NULL on a column left NULL, the owner's privileges that
// the statements would check, no trigger on the written event other than non-deferrable
// foreign-key triggers that cannot fail, a replica identity that
// CheckCmdReplicaIdentity accepts for the update or delete; and only in a
// transaction that may write (not read-only, not parallel). Anything else
// (or order_credit.direct_access = off) and the callers use the SQL path,
// which does the same thing through the executor (docs/DEVELOPING.md lists
// the cases).
#pragma once

#include "pg/pg.hpp"

namespace oc::pg::direct {

extern bool guc_enabled;  // order_credit.direct_access

// What a reservation starts from. `usable` false: use the SQL path.
// More due claims of a SKU than this (claims past expiry that no one has
// swept): a reservation of it expires them first, through the slow path
// (direct.cpp, open_write; stock.cpp, reserve_one), one buyer per SKU at a
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
// offset) % buckets, or else one such bucket waited for (direct.cpp).
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

// place_order's credit and order rows, after reserve() placed each of its
// `reservations` SKUs in the same subtransaction (the account's pending and next_expiry, guarded as
// reserve_credit guards them, waiting for the account's row lock as UPDATE
// does; the hold, its ledger entry, the order and its first history row),
// only if the order_ref has no order and no hold and exactly those
// reservations. `placed` false: nothing was written (the account may stay
// locked until the caller's subtransaction is rolled back). `values` and
// `nulls`: the order_status row.
struct OrderPlaced {
    bool usable = false;
    bool placed = false;
    Datum values[6] = {};
    bool nulls[6] = {};
    double lock_wait_ms = 0;
};
OrderPlaced place_credit_order(Datum order_ref, Datum items, Datum account, bool has_ttl, Datum ttl,
                               Datum total, Datum created_by, int64 reservations);

// reserve_credit's rows (S_reserve of credit.cpp): the account's pending
// and next_expiry, guarded and waited for as place_credit_order does, the
// hold and its ledger entry, only if the order_ref has no hold yet (the
// caller holds its handle lock). `placed` false: nothing was written (the
// account's newest version may stay locked, as after S_reserve's guarded
// UPDATE). `values` and `nulls`: the credit_hold row.
struct HoldPlaced {
    bool usable = false;
    bool placed = false;
    Datum values[8] = {};
    bool nulls[8] = {};
    double lock_wait_ms = 0;
};
HoldPlaced place_credit_hold(Datum account, Datum amount, Datum order_ref, bool has_ttl, Datum ttl,
                             Datum created_by);

// expire_due's stock step (S_expire_stock_batch of stock.cpp): up to
// `budget` due claims in expiry order, each deleted and its parts given back
// to its buckets when no one holds them. `usable` false: the statement must
// do it (nothing was done). `expired`: claims deleted.
struct Expired {
    bool usable = false;
    int64 expired = 0;
    bool heap = false;  // read in heap order (order_credit.expire_scan)
};
Expired expire_claims(int64 budget);

// Set by the background sweeper: its due scans start where its last one
// ended, with a scan from the beginning at least once a second (see
// direct_expire.cpp). Elsewhere every call scans from the beginning: a
// caller of expire_due() expects every claim due at that moment to be
// considered.
extern bool scan_floor;

// order_credit.expire_scan: how expire_due's stock step finds due claims
// (direct_expire.cpp): index reads them in expiry order through the due
// index, heap reads the table in block order, auto picks one per call
// (heap for a backlog, judged from a sample of the table).
enum ExpireScan { ExpireScanAuto, ExpireScanIndex, ExpireScanHeap };
extern int guc_expire_scan;

// Where a striped reservation starts in the bucket order: differs between
// backends and between calls, so concurrent buyers spread over the buckets.
int32 next_spread();

}  // namespace oc::pg::direct
