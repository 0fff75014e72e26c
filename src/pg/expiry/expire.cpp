// order_credit.expire_due(max_rows): the sweep, also run by any scheduler.
//
// Never waits behind a buyer: the rows that serialize writers (accounts and
// their holds; stock buckets) are locked with SKIP LOCKED, in the extension's
// canonical order, and a reservation's claim is only deleted once every
// bucket of its parts is held (see expire_stock_step), so several sweeps and live
// traffic run side by side; rows skipped now are taken by a later call.
// SKIP LOCKED still waits when the row's updater ends just as it is checked
// and a newer version already has another updater (PostgreSQL follows the
// update chain without the skip policy), so each step, and the credit step
// per account, runs in a subtransaction with a 1 ms lock timeout (the
// smallest there is) and is rolled back and left to a later call when it
// would wait longer.
#include <array>
#include <exception>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/pace.hpp"
#include "pg/common.hpp"
#include "pg/expiry/expire.hpp"
#include "pg/spi.hpp"
#include "pg/subxact.hpp"
#include "storage/latch.h"
#include "utils/wait_event.h"

namespace oc::pg {
namespace {

using core::Code;
using core::Error;

// One step of expire_due, in the order they run: the extension's lock order
// (order rows, then stock buckets, then accounts and their holds), as every
// writer takes them. SKIP LOCKED can still wait for a transaction that
// updated a newer version of a row it locks, so a sweep that took accounts
// before buckets could deadlock with a buyer holding a bucket and waiting
// for the account.
using Step = int64_t (*)(int64_t budget, Datum user);
using Steps = std::array<Step, 5>;
constexpr Steps kSteps = {
    expire_orders_step,      expire_stock_step,   expire_credit_step,
    purge_coordination_step, purge_finished_step,
};
// What extension 1.0's expire_due (bound to oc_expire_due) runs: its schema
// has no lease token sequence, so its leases are never purged.
// Nor does it purge finished rows.
constexpr Steps kSteps_v1_0 = {kSteps[0], kSteps[1], kSteps[2], purge_coordination_step_v1_0,
                               nullptr};

// This session's pacing of expire_due (order_credit.expire_max_rate), and
// the local transaction of its last call.
core::Pace pace;
LocalTransactionId pace_lxid = InvalidLocalTransactionId;

// The pause a call takes first, before it locks anything: only the first
// call of a transaction waits (a later one would sleep on the locks its
// predecessors took; its debt carries over to the next transaction). Sleeps
// as pg_sleep() does: interruptible, wakes on the latch. Call inside
// pg_call.
void pace_call(TimestampTz now) {
    if (MyProc->lxid == pace_lxid) return;
    int64_t wait_us = pace.pause_us(now);
    if (wait_us <= 0) return;
    elog(DEBUG2, "order_credit: expire_due pauses for order_credit.expire_max_rate");
    TimestampTz end = now + wait_us;
    for (;;) {
        CHECK_FOR_INTERRUPTS();
        long ms = static_cast<long>((end - GetCurrentTimestamp() + 999) / 1000);
        if (ms <= 0) break;
        (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, ms,
                        PG_WAIT_EXTENSION);
        ResetLatch(MyLatch);
    }
}

Datum expire_due(FunctionCallInfo fcinfo, const Steps &steps) {
    return with_spi(fcinfo, [&steps](const Call &call) {
        Args args(call.fcinfo);
        if (args.is_null(0)) throw Error(Code::NullValue, "max_rows must not be NULL");
        int32 max_rows = DatumGetInt32(args.datum(0));
        if (max_rows <= 0)
            throw Error(Code::InvalidParameter, "max_rows must be a positive integer",
                        fmt::format("max_rows={}", max_rows));
        TimestampTz start = GetCurrentTimestamp();
        pg_call([start] { pace_call(start); });
        start = GetCurrentTimestamp();
        Datum user = caller_name();
        int64_t done = 0;
        for (Step step : steps) {
            if (step == nullptr || done >= max_rows) break;
            int64_t budget = max_rows - done;
            // The credit step keeps a subtransaction per account itself.
            done += step == expire_credit_step ? step(budget, user)
                                               : unless_busy([&] { return step(budget, user); });
        }
        pace.spent(start, done, guc_expire_max_rate);
        pace_lxid = MyProc->lxid;
        return Int64GetDatum(done);
    });
}

}  // namespace

}  // namespace oc::pg

using namespace oc::pg;

OC_FUNCTION(oc_expire_due) {
    return guard(fcinfo, "expire_due",
                 [](FunctionCallInfo f) { return expire_due(f, kSteps_v1_0); });
}
OC_FUNCTION(oc_expire_due_v1_1) {
    return guard(fcinfo, "expire_due", [](FunctionCallInfo f) { return expire_due(f, kSteps); });
}
