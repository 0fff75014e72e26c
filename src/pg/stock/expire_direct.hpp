// expire_due's stock step without the executor (stock/expire_direct.cpp),
// on the table-access mechanics of access/table_access.hpp; the statement
// S_expire_stock_batch of stock/stock.cpp is its SQL fallback.
#pragma once

#include "pg/pg.hpp"

namespace oc::pg::direct {

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
// stock/expire_direct.cpp). Elsewhere every call scans from the beginning: a
// caller of expire_due() expects every claim due at that moment to be
// considered.
extern bool scan_floor;

// order_credit.expire_scan: how expire_due's stock step finds due claims
// (stock/expire_direct.cpp): index reads them in expiry order through the due
// index, heap reads the table in block order, auto picks one per call
// (heap for a backlog, judged from a sample of the table).
enum ExpireScan { ExpireScanAuto, ExpireScanIndex, ExpireScanHeap };
extern int guc_expire_scan;

}  // namespace oc::pg::direct
