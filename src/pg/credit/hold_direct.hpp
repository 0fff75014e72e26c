// A credit hold without the executor: the writer of reserve_credit and of
// place_order's credit and order rows (credit/hold_direct.cpp), on the
// table-access mechanics of access/table_access.hpp; credit/holds.cpp's
// slow path and orders/orders.cpp's composed path are their SQL fallbacks.
#pragma once

#include "pg/pg.hpp"

namespace oc::pg::direct {

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

// reserve_credit's rows (S_reserve of credit/holds.cpp): the account's pending
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

}  // namespace oc::pg::direct
