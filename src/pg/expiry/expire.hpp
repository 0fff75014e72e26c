// expire_due(): each area contributes one step that expires (or purges) at
// most `budget` due rows, skipping rows other transactions hold (SKIP
// LOCKED), and returns how many it did. expire.cpp runs the steps in the
// extension's lock order with the remaining budget; to add an area, declare
// its step here and put it into kSteps (expire.cpp) at its place in that
// order.
#pragma once

#include <cstdint>
#include <exception>

#include "core/error.hpp"
#include "pg/guard.hpp"
#include "pg/settings.hpp"
#include "pg/spi.hpp"
#include "pg/subxact.hpp"

namespace oc::pg {

// Credit holds past expires_at -> expired, pending given back, ledger kind expire.
int64_t expire_credit_step(int64_t budget, Datum user);
// Claims of stock reservations past expires_at deleted, units back to their
// buckets (the reservation rows are not updated: past expiry they read expired).
int64_t expire_stock_step(int64_t budget, Datum user);
// Pending orders past expires_at -> expired, with a history entry.
int64_t expire_orders_step(int64_t budget, Datum user);
// Idempotency keys past order_credit.idempotency_ttl, processed events past
// order_credit.event_retention and leases released or lapsed more than
// order_credit.lease_retention ago are deleted.
int64_t purge_coordination_step(int64_t budget, Datum user);
// Finished orders (with their history), holds and reservations past
// order_credit.finished_retention are deleted (pg/expiry/purge.cpp).
int64_t purge_finished_step(int64_t budget, Datum user);
// The same without leases: what the 1.0 schema's entry points do (its lease
// tokens count per key, so a purged lease would start again at 1).
int64_t purge_coordination_step_v1_0(int64_t budget, Datum user);

// The longest a sweep waits for a lock (ms).
constexpr int kSweepLockWaitMs = 1;

// Runs body() (returns rows done) in a subtransaction under the sweep's lock
// timeout; 0 when it would have waited longer (its work rolled back). Other
// errors propagate after the rollback.
template <typename Body>
int64_t unless_busy(Body &&body) {
    Subxact sx;
    std::exception_ptr failure;
    int64_t done = 0;
    try {
        // Inside the subtransaction: its end, commit or rollback, puts back
        // the lock_timeout in force before it (pg/settings.hpp).
        OwnLockTimeout own;
        set_lock_timeout(kSweepLockWaitMs);
        done = body();
    } catch (...) {
        failure = std::current_exception();
    }
    sx.close(!failure);
    if (!failure) return done;
    try {
        std::rethrow_exception(failure);
    } catch (const core::Error &e) {
        if (e.code() != core::Code::LockTimeout) throw;
    } catch (const PgError &e) {
        if (e.sqlerrcode() != ERRCODE_LOCK_NOT_AVAILABLE) throw;
    }
    pg_call([] {
        ereport(DEBUG2,
                (errmsg_internal("order_credit: expire_due left a busy row to a later call")));
    });
    return 0;
}

}  // namespace oc::pg
