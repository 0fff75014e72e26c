// The coordination tables' purge: finished idempotency keys, processed
// events and released leases past their retention (purge_coordination, and
// expire_due's coordination step; docs/coordination.md).
#include <optional>
#include <utility>
#include <string>

#include <fmt/format.h>

#include "core/coordination.hpp"
#include "core/error.hpp"
#include "pg/common.hpp"
#include "pg/expiry/expire.hpp"
#include "pg/spi.hpp"

extern "C" {
#include "utils/tuplestore.h"
}

namespace oc::pg {
namespace {

using core::BeginState;
using core::Code;
using core::Error;

Statement S_purge_keys(
    "WITH d AS ("
    "    DELETE FROM order_credit.idempotency_keys WHERE key IN ("
    "        SELECT key FROM order_credit.idempotency_keys "
    "         WHERE created_at < statement_timestamp() - $1 "
    "           AND (lease_expires_at IS NULL OR lease_expires_at <= statement_timestamp()) "
    "         ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED) "
    "    RETURNING 1) "
    "SELECT count(*) FROM d",
    {INTERVALOID, INT4OID}, Statement::kBatch);

// Leases released or lapsed more than order_credit.lease_retention ago (a
// lapsed lease may still be renewed by its owner until then).
Statement S_purge_leases(
    "WITH d AS ("
    "    DELETE FROM order_credit.leases WHERE key IN ("
    "        SELECT key FROM order_credit.leases "
    "         WHERE coalesce(expires_at, updated_at) < statement_timestamp() - $1 "
    "         ORDER BY coalesce(expires_at, updated_at) LIMIT $2 FOR UPDATE SKIP LOCKED) "
    "    RETURNING 1) "
    "SELECT count(*) FROM d",
    {INTERVALOID, INT4OID}, Statement::kBatch);

Statement S_purge_events(
    "WITH d AS ("
    "    DELETE FROM order_credit.processed_events WHERE (source, event_id) IN ("
    "        SELECT source, event_id FROM order_credit.processed_events "
    "         WHERE processed_at < statement_timestamp() - $1 "
    "         ORDER BY processed_at LIMIT $2 FOR UPDATE SKIP LOCKED) "
    "    RETURNING 1) "
    "SELECT count(*) FROM d",
    {INTERVALOID, INT4OID}, Statement::kBatch);

// ---------------------------------------------------------------- purge

Datum purge_coordination(FunctionCallInfo fcinfo, int64_t (*step)(int64_t, Datum)) {
    return with_spi(fcinfo, [step](const Call &call) {
        Args args(call.fcinfo);
        if (args.is_null(0)) throw Error(Code::NullValue, "max_rows must not be NULL");
        int max_rows = pg_call([&args]() -> int { return DatumGetInt32(args.datum(0)); });
        if (max_rows <= 0)
            throw Error(Code::InvalidParameter, "max_rows must be positive",
                        fmt::format("max_rows={}", max_rows));
        return Int64GetDatum(step(max_rows, Datum(0)));
    });
}

// Deletes at most `budget` rows with each purge in turn (statement, how long
// its rows are kept) while budget is left.
int64_t purge(int64_t budget, std::initializer_list<std::pair<Statement *, int>> purges) {
    int max_rows = budget > INT32_MAX ? INT32_MAX : static_cast<int>(budget);
    auto seconds = [](int s) -> Datum {
        return pg_call([s]() -> Datum {
            Interval *iv = static_cast<Interval *>(palloc0(sizeof(Interval)));
            iv->time = static_cast<TimeOffset>(s) * USECS_PER_SEC;
            return IntervalPGetDatum(iv);
        });
    };
    int64_t deleted = 0;
    for (const auto &[statement, keep_s] : purges) {
        if (deleted >= max_rows) break;
        int rest = max_rows - static_cast<int>(deleted);
        deleted += exec(*statement, {val(seconds(keep_s)), val(Int32GetDatum(rest))}).int8(0, 1);
    }
    return deleted;
}
}  // namespace

int64_t purge_coordination_step(int64_t budget, Datum) {
    return purge(budget, {{&S_purge_keys, guc_idempotency_ttl_s},
                          {&S_purge_events, guc_event_retention_s},
                          {&S_purge_leases, guc_lease_retention_s}});
}

int64_t purge_coordination_step_v1_0(int64_t budget, Datum) {
    return purge(
        budget, {{&S_purge_keys, guc_idempotency_ttl_s}, {&S_purge_events, guc_event_retention_s}});
}

}  // namespace oc::pg

using namespace oc::pg;

OC_FUNCTION(oc_purge_coordination) {
    return guard(fcinfo, "_purge_coordination", [](FunctionCallInfo f) {
        return purge_coordination(f, purge_coordination_step_v1_0);
    });
}
OC_FUNCTION(oc_purge_coordination_v1_1) {
    return guard(fcinfo, "_purge_coordination",
                 [](FunctionCallInfo f) { return purge_coordination(f, purge_coordination_step); });
}
