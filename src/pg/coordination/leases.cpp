// Named locks and leases with fencing tokens: lock, try_lock,
// acquire_lease, renew_lease, release_lease, break_lease, check_fence
// (docs/reference.md, coordination). Rules in src/core/coordination.hpp;
// design and guarantees in docs/coordination.md.
#include <optional>
#include <utility>
#include <string>

#include <fmt/format.h>

#include "core/coordination.hpp"
#include "core/error.hpp"
#include "pg/common.hpp"
#include "pg/coordination/args.hpp"
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

// ---------------------------------------------------------------- statements

#define OC_LEASE_ACQUIRE(FIRST, NEXT)                                                 \
    "INSERT INTO order_credit.leases AS l (key, owner, token, expires_at) "           \
    "VALUES ($1, $2, " FIRST                                                          \
    ", statement_timestamp() + $3) "                                                  \
    "ON CONFLICT (key) DO UPDATE "                                                    \
    "   SET owner = excluded.owner, token = " NEXT                                    \
    ", expires_at = excluded.expires_at, "                                            \
    "       acquired_at = statement_timestamp(), updated_at = statement_timestamp() " \
    " WHERE l.owner IS NULL OR l.expires_at <= statement_timestamp() "                \
    "RETURNING token"
// clang-format on

// Tokens come from one sequence, so a key's token still grows after its row
// was purged and created again.
Statement S_lease_acquire(OC_LEASE_ACQUIRE("nextval('order_credit.lease_tokens')",
                                           "excluded.token"),
                          {TEXTOID, TEXTOID, INTERVALOID});

// Extension 1.0 (its acquire_lease is bound to oc_acquire_lease): tokens
// count per key, from 1.
Statement S_lease_acquire_v1_0(OC_LEASE_ACQUIRE("1", "l.token + 1"),
                               {TEXTOID, TEXTOID, INTERVALOID});

// The caller's own live lease (ON CONFLICT above left the row locked).
Statement S_lease_mine(
    "SELECT token FROM order_credit.leases "
    " WHERE key = $1 AND owner = $2 AND expires_at > statement_timestamp()",
    {TEXTOID, TEXTOID});

Statement S_lease_renew(
    "UPDATE order_credit.leases "
    "   SET expires_at = statement_timestamp() + $4, updated_at = statement_timestamp() "
    " WHERE key = $1 AND owner = $2 AND token = $3 RETURNING 1",
    {TEXTOID, TEXTOID, INT8OID, INTERVALOID});

Statement S_lease_release(
    "UPDATE order_credit.leases "
    "   SET owner = NULL, expires_at = NULL, updated_at = statement_timestamp() "
    " WHERE key = $1 AND owner = $2 AND token = $3 RETURNING 1",
    {TEXTOID, TEXTOID, INT8OID});

// An administrator frees the lease whoever holds it; the new token makes the
// last holder's token stale (OC011 at its next check_fence).
Statement S_lease_break(
    "UPDATE order_credit.leases "
    "   SET owner = NULL, expires_at = NULL, token = nextval('order_credit.lease_tokens'), "
    "       updated_at = statement_timestamp() "
    " WHERE key = $1 RETURNING token",
    {TEXTOID});

Statement S_fence("SELECT token FROM order_credit.leases WHERE key = $1 FOR SHARE", {TEXTOID});

// ------------------------------------------------------------------ helpers

// ---------------------------------------------------------------- named locks

// Named locks taken in the current transaction (a key taken again is not
// counted twice; one taken in a savepoint rolled back since still counts).
// Bounded by order_credit.max_named_locks so that one caller cannot fill the
// server's shared lock table; reset when the transaction ends.
int named_locks_taken = 0;

void named_locks_xact_end(XactEvent event, void *) {
    if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
        event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT ||
        event == XACT_EVENT_PREPARE)
        named_locks_taken = 0;
}

// Takes the named lock `key` (waiting or not); raises OC012 instead when it
// would be one more than order_credit.max_named_locks.
bool take_named_lock(const std::string &key, bool wait) {
    bool held = handle_held(LockSpace::NamedLock, key);
    if (!held && named_locks_taken >= guc_max_named_locks)
        throw Error(
            Code::LockLimit, "too many named locks in one transaction",
            fmt::format("held={}, limit={}, key={}", named_locks_taken, guc_max_named_locks, key),
            "Lock fewer keys per transaction, or ask an administrator to raise "
            "order_credit.max_named_locks.");
    bool got = lock_handle(LockSpace::NamedLock, key, wait);
    if (got && !held) ++named_locks_taken;
    return got;
}

Datum lock(FunctionCallInfo fcinfo) {
    Args args(fcinfo);
    std::string key = args.key(0, "key");
    std::optional<Datum> t = args.opt_positive_interval(1, "timeout");
    int ms = guc_lock_timeout_ms;
    if (t) {
        Datum d = *t;
        Interval iv = pg_call([d]() -> Interval { return *DatumGetIntervalP(d); });
        ms = core::lock_timeout_ms(iv.time, iv.day, iv.month);
    }
    // Only a wait needs the timeout: a lock free at once changes no setting
    // (no GUC nest level for the call, pg/settings.hpp).
    if (take_named_lock(key, /*wait=*/false)) PG_RETURN_VOID();
    set_lock_timeout(ms);
    take_named_lock(key, /*wait=*/true);
    PG_RETURN_VOID();
}

Datum try_lock(FunctionCallInfo fcinfo) {
    Args args(fcinfo);
    std::string key = args.key(0, "key");
    bool ok = take_named_lock(key, /*wait=*/false);
    PG_RETURN_BOOL(ok);
}

// ---------------------------------------------------------------- leases

Datum acquire_lease(FunctionCallInfo fcinfo, Statement &acquire) {
    return with_spi(fcinfo, [&acquire](const Call &call) -> Datum {
        FunctionCallInfo fcinfo = call.fcinfo;
        Args args(fcinfo);
        args.key(0, "key");
        args.key(1, "owner");
        Datum ttl = *coordination::lease_length(args, 2, "ttl", false, guc_max_lease_s,
                                                "order_credit.max_lease");
        Datum key_d = args.datum(0), owner_d = args.datum(1);
        use_call_lock_timeout();
        Rows r = exec(acquire, {val(key_d), val(owner_d), val(ttl)});
        std::optional<int64_t> token;
        if (!r.empty()) {
            token = r.int8(0, 1);
        } else {
            Rows mine = exec(S_lease_mine, {val(key_d), val(owner_d)});
            if (!mine.empty()) token = mine.int8(0, 1);
        }
        if (!token) PG_RETURN_NULL();
        return Int64GetDatum(*token);
    });
}

Datum renew_lease(FunctionCallInfo fcinfo) {
    return with_spi(fcinfo, [](const Call &call) {
        Args args(call.fcinfo);
        args.key(0, "key");
        args.key(1, "owner");
        int64_t token = coordination::token_arg(args, 2);
        Datum ttl = *coordination::lease_length(args, 3, "ttl", false, guc_max_lease_s,
                                                "order_credit.max_lease");
        use_call_lock_timeout();
        Rows r = exec(S_lease_renew, {val(args.datum(0)), val(args.datum(1)),
                                      val(Int64GetDatum(token)), val(ttl)});
        bool ok = !r.empty();
        return BoolGetDatum(ok);
    });
}

Datum release_lease(FunctionCallInfo fcinfo) {
    return with_spi(fcinfo, [](const Call &call) {
        Args args(call.fcinfo);
        args.key(0, "key");
        args.key(1, "owner");
        int64_t token = coordination::token_arg(args, 2);
        use_call_lock_timeout();
        Rows r = exec(S_lease_release,
                      {val(args.datum(0)), val(args.datum(1)), val(Int64GetDatum(token))});
        bool ok = !r.empty();
        return BoolGetDatum(ok);
    });
}

Datum break_lease(FunctionCallInfo fcinfo) {
    return with_spi(fcinfo, [](const Call &call) {
        Args args(call.fcinfo);
        std::string key = args.key(0, "key");
        use_call_lock_timeout();
        Rows r = exec(S_lease_break, {val(args.datum(0))});
        if (r.empty())
            throw Error(Code::ReferenceNotFound, fmt::format("no lease \"{}\"", key),
                        fmt::format("key={}", key),
                        "Leases are created by order_credit.acquire_lease().");
        int64_t token = r.int8(0, 1);
        return Int64GetDatum(token);
    });
}

Datum check_fence(FunctionCallInfo fcinfo) {
    return with_spi(fcinfo, [](const Call &call) {
        Args args(call.fcinfo);
        std::string key = args.key(0, "key");
        int64_t token = coordination::token_arg(args, 1);
        use_call_lock_timeout();
        Rows r = exec(S_fence, {val(args.datum(0))});
        if (r.empty())
            throw Error(Code::ReferenceNotFound, fmt::format("no lease \"{}\"", key),
                        fmt::format("key={}, token={}", key, token),
                        "Fencing tokens come from order_credit.acquire_lease().");
        core::check_fence(key, token, r.int8(0, 1));
        return Datum(0);
    });
}

}  // namespace

void register_named_lock_count() {
    RegisterXactCallback(named_locks_xact_end, nullptr);
}

}  // namespace oc::pg

using namespace oc::pg;

OC_FUNCTION(oc_lock) {
    return guard(fcinfo, "lock", lock);
}
OC_FUNCTION(oc_try_lock) {
    return guard(fcinfo, "try_lock", try_lock);
}
OC_FUNCTION(oc_acquire_lease) {
    return guard(fcinfo, "acquire_lease",
                 [](FunctionCallInfo f) { return acquire_lease(f, S_lease_acquire_v1_0); });
}
OC_FUNCTION(oc_acquire_lease_v1_1) {
    return guard(fcinfo, "acquire_lease",
                 [](FunctionCallInfo f) { return acquire_lease(f, S_lease_acquire); });
}
OC_FUNCTION(oc_break_lease) {
    return guard(fcinfo, "break_lease", break_lease);
}
OC_FUNCTION(oc_renew_lease) {
    return guard(fcinfo, "renew_lease", renew_lease);
}
OC_FUNCTION(oc_release_lease) {
    return guard(fcinfo, "release_lease", release_lease);
}
OC_FUNCTION(oc_check_fence) {
    return guard(fcinfo, "check_fence", check_fence);
}
