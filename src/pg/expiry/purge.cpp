// order_credit.purge(max_rows) and the purge step of expire_due: deletes
// finished rows past their retention in bounded batches (the lifecycle in
// docs/lifecycle.md, the rules in src/core/lifecycle.hpp).
//
//  1. finished orders (delivered, cancelled, expired) with their history,
//     their finished hold and their finished reservations, in one statement;
//  2. finished holds of no order;
//  3. finished reservations of no order (committed, released, or active
//     past expiry once expire_due deleted their claim).
//
// The ledger, stock_audit and payments are never touched. Rows are locked
// with SKIP LOCKED and each step runs under the sweep's 1 ms lock timeout
// (unless_busy), so a replay holding one of these rows is never waited for:
// the row is taken by a later call. Lock order as every writer's: order rows
// before holds and reservations.
#include <string>

#include <fmt/format.h>

#include "core/lifecycle.hpp"
#include "pg/common.hpp"
#include "pg/expiry/expire.hpp"
#include "pg/expiry/purge.hpp"
#include "pg/settings.hpp"
#include "pg/spi.hpp"

extern "C" {
#include "jit/jit.h"
}

namespace oc::pg {
namespace {

// order_history is append-only; only the purge's own statement may delete
// the history of the orders it deletes (oc_append_only reads this).
bool purging_order_history = false;

// expire_due's purge step in this backend: when it last looked, and whether
// that look filled its budget (more may be due at once).
constexpr int64_t kPurgeEveryUs = 1'000'000;
TimestampTz last_purge = 0;
bool purge_behind = false;

using core::Code;
using core::Error;

// A reservation past expiry whose claim expire_due already deleted (the claim
// is found by its primary key: sku, expires_at, reservation_id). OFFSET 0
// keeps it a lookup per candidate: without it the planner may hash the whole
// claims table once per statement instead.
#define OC_NO_CLAIM                                                     \
    "NOT EXISTS (SELECT 1 FROM order_credit.reservation_claims k "      \
    "             WHERE k.sku = r.sku AND k.expires_at = r.expires_at " \
    "               AND k.reservation_id = r.reservation_id OFFSET 0)"

// The statements name the finished statuses as core/lifecycle.hpp lists them.
std::string with_statuses(const char *sql) {
    return fmt::format(sql, fmt::arg("orders", core::finished_order_statuses_sql()),
                       fmt::arg("holds", core::finished_hold_statuses_sql()),
                       fmt::arg("reservations", core::finished_reservation_statuses_sql()));
}

const std::string kOrdersSql = with_statuses(
    "WITH o AS ("
    "    SELECT order_ref FROM order_credit.orders "
    "     WHERE status IN ({orders}) AND updated_at < statement_timestamp() - $1 "
    "     ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED), "
    "h AS (DELETE FROM order_credit.holds h USING o "
    "       WHERE h.order_ref = o.order_ref AND h.status IN ({holds}) RETURNING 1), "
    "r AS (DELETE FROM order_credit.reservations r USING o "
    "       WHERE r.order_ref = o.order_ref "
    "         AND (r.status IN ({reservations}) "
    "              OR (r.status = 'active' AND r.expires_at <= statement_timestamp() "
    "                  AND " OC_NO_CLAIM
    ")) RETURNING 1), "
    "x AS (DELETE FROM order_credit.order_history x USING o "
    "       WHERE x.order_ref = o.order_ref RETURNING 1), "
    "d AS (DELETE FROM order_credit.orders d USING o "
    "       WHERE d.order_ref = o.order_ref RETURNING 1) "
    "SELECT (SELECT count(*) FROM d) + (SELECT count(*) FROM h) "
    "     + (SELECT count(*) FROM r) + (SELECT count(*) FROM x)");

// Scans the partial index holds_finished (same status list).
const std::string kHoldsSql = with_statuses(
    "WITH c AS ("
    "    SELECT h.hold_id FROM order_credit.holds h "
    "     WHERE h.status IN ({holds}) AND h.updated_at < statement_timestamp() - $1 "
    "       AND NOT EXISTS (SELECT 1 FROM order_credit.orders o WHERE o.order_ref = h.order_ref) "
    "     ORDER BY h.updated_at LIMIT $2 FOR UPDATE SKIP LOCKED), "
    "d AS (DELETE FROM order_credit.holds h USING c WHERE h.hold_id = c.hold_id RETURNING 1) "
    "SELECT count(*) FROM d");

// reservations has no index on status or updated_at (commit and release
// stay HOT updates): the scan walks the primary key from the oldest row and
// stops at the first reservation created within the retention, since
// reservation ids grow with created_at.
const std::string kReservationsSql = with_statuses(
    "WITH c AS ("
    "    SELECT r.reservation_id FROM order_credit.reservations r "
    "     WHERE r.reservation_id < coalesce(("
    "               SELECT y.reservation_id FROM order_credit.reservations y "
    "                WHERE y.created_at >= statement_timestamp() - $1 "
    "                ORDER BY y.reservation_id LIMIT 1), 9223372036854775807) "
    "       AND r.created_at < statement_timestamp() - $1 "
    "       AND ((r.status IN ({reservations}) AND r.updated_at < statement_timestamp() - $1) "
    "            OR (r.status = 'active' AND r.expires_at < statement_timestamp() - $1 "
    "                AND " OC_NO_CLAIM
    ")) "
    "       AND NOT EXISTS (SELECT 1 FROM order_credit.orders o WHERE o.order_ref = r.order_ref) "
    "     ORDER BY r.reservation_id LIMIT $2 FOR UPDATE OF r SKIP LOCKED), "
    "d AS (DELETE FROM order_credit.reservations r USING c "
    "       WHERE r.reservation_id = c.reservation_id RETURNING 1) "
    "SELECT count(*) FROM d");

// Key access (nested loops over indexes): a batch touches its own rows only.
Statement S_purge_orders(kOrdersSql.c_str(), {INTERVALOID, INT4OID});
Statement S_purge_holds(kHoldsSql.c_str(), {INTERVALOID, INT4OID});
Statement S_purge_reservations(kReservationsSql.c_str(), {INTERVALOID, INT4OID});

Datum seconds(int64_t s) {
    return pg_call([s]() -> Datum {
        Interval *iv = static_cast<Interval *>(palloc0(sizeof(Interval)));
        iv->time = static_cast<TimeOffset>(s) * USECS_PER_SEC;
        return IntervalPGetDatum(iv);
    });
}

int64_t run(Statement &s, Datum keep, int64_t budget) {
    int rows = budget > INT32_MAX ? INT32_MAX : static_cast<int>(budget);
    return exec(s, {val(keep), val(Int32GetDatum(rows))}).int8(0, 1);
}

// The orders statement, with order_history's DELETE allowed while it runs.
int64_t run_orders(Datum keep, int64_t budget) {
    purging_order_history = true;
    int64_t done = 0;
    try {
        done = run(S_purge_orders, keep, budget);
    } catch (...) {
        purging_order_history = false;
        throw;
    }
    purging_order_history = false;
    return done;
}

int64_t purge_finished(int64_t budget) {
    int64_t keep_s = core::finished_retention_s(guc_finished_retention_s, guc_idempotency_ttl_s);
    if (keep_s == 0 || budget <= 0) return 0;
    // The planner prices the reservations scan by the table (the boundary is
    // only known when it runs), which on a large table is past jit_above_cost:
    // compiling would cost more than the batch. This runs inside the sweep's
    // subtransaction (unless_busy), whose end puts the setting back.
    if (jit_enabled) CallSettings::current().set("jit", "off");
    Datum keep = seconds(keep_s);
    int64_t done = run_orders(keep, budget);
    if (done < budget) done += run(S_purge_holds, keep, budget - done);
    if (done < budget) done += run(S_purge_reservations, keep, budget - done);
    return done;
}

Datum purge(FunctionCallInfo fcinfo) {
    return with_spi(fcinfo, [](const Call &call) {
        Args args(call.fcinfo);
        if (args.is_null(0)) throw Error(Code::NullValue, "max_rows must not be NULL");
        int32 max_rows = DatumGetInt32(args.datum(0));
        if (max_rows <= 0)
            throw Error(Code::InvalidParameter, "max_rows must be a positive integer",
                        fmt::format("max_rows={}", max_rows));
        int64_t done = unless_busy([&] { return purge_finished(max_rows); });
        if (done < max_rows)
            done += unless_busy([&] { return purge_coordination_step(max_rows - done, Datum(0)); });
        return Int64GetDatum(done);
    });
}

}  // namespace

int64_t purge_finished_step(int64_t budget, Datum) {
    // Rows finish past their retention at the pace they were written, days
    // ago: one look a second is enough for expire_due, which the sweeper and
    // busy schedulers call many times a second (a look costs three index
    // probes). A look that filled its budget is followed by the next at once.
    TimestampTz now = pg_call([] { return GetCurrentTimestamp(); });
    if (!purge_behind && now - last_purge < kPurgeEveryUs) return 0;
    last_purge = now;
    int64_t done = purge_finished(budget);
    purge_behind = done >= budget;
    return done;
}

bool order_history_delete_allowed() {
    return purging_order_history;
}

}  // namespace oc::pg

using namespace oc::pg;

OC_FUNCTION(oc_purge) {
    return guard(fcinfo, "purge", purge);
}
