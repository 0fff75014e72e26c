// Idempotency keys and exactly-once events: idempotency_begin,
// idempotency_checkpoint, idempotency_complete, process_once
// (docs/reference.md, coordination). Rules in src/core/coordination.hpp;
// design and guarantees in docs/coordination.md.
//
// Locking order (the extension's canonical order): the key's handle
// advisory lock (LockSpace::Handle, "idempotency" prefix) -> its row.
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

Statement S_key_insert(
    "INSERT INTO order_credit.idempotency_keys (key, fingerprint, lease, lease_expires_at) "
    "VALUES ($1, $2, $3, statement_timestamp() + $3) "
    "ON CONFLICT (key) DO NOTHING RETURNING 1",
    {TEXTOID, TEXTOID, INTERVALOID});

// Facts about a key: 1 fingerprint matches, 2 completed, 3 lease live,
// 4 response, 5 response_code, 6 recovery_point, 7 remaining lease, 8 fingerprint.
Statement S_key_get(
    "SELECT fingerprint = $2, state = 'completed', "
    "       coalesce(lease_expires_at > statement_timestamp(), false), "
    "       response, response_code, recovery_point, "
    "       CASE WHEN lease_expires_at > statement_timestamp() "
    "            THEN lease_expires_at - statement_timestamp() END, "
    "       fingerprint "
    "  FROM order_credit.idempotency_keys WHERE key = $1",
    {TEXTOID, TEXTOID});

// A lapsed (or lease-less, committed) in-progress key taken over: new lease.
Statement S_key_resume(
    "UPDATE order_credit.idempotency_keys "
    "   SET lease = $2, lease_expires_at = statement_timestamp() + $2, resumed = resumed + 1, "
    "       updated_at = statement_timestamp() "
    " WHERE key = $1 AND state = 'in_progress' RETURNING recovery_point",
    {TEXTOID, INTERVALOID});

Statement S_key_checkpoint(
    "UPDATE order_credit.idempotency_keys "
    "   SET recovery_point = $2, lease_expires_at = statement_timestamp() + lease, "
    "       updated_at = statement_timestamp() "
    " WHERE key = $1 AND state = 'in_progress' RETURNING 1",
    {TEXTOID, TEXTOID});

Statement S_key_complete(
    "UPDATE order_credit.idempotency_keys "
    "   SET state = 'completed', response = $2, response_code = $3, lease_expires_at = NULL, "
    "       completed_at = statement_timestamp(), updated_at = statement_timestamp() "
    " WHERE key = $1 AND state = 'in_progress' RETURNING 1",
    {TEXTOID, JSONBOID, INT4OID});

// 1 state, 2 same response, 3 stored response_code.
Statement S_key_state(
    "SELECT state, response IS NOT DISTINCT FROM $2, coalesce(response_code, 0) "
    "  FROM order_credit.idempotency_keys WHERE key = $1",
    {TEXTOID, JSONBOID});

// The lease taken when it is free or lapsed (one guarded upsert); FIRST is
// a new key's token, NEXT the token of a key taken again.
// clang-format off
Statement S_event(
    "INSERT INTO order_credit.processed_events (source, event_id) VALUES ($1, $2) "
    "ON CONFLICT DO NOTHING RETURNING 1",
    {TEXTOID, TEXTOID});

// ------------------------------------------------------------------ helpers

// Handle-lock name of an idempotency key (LockSpace::Handle is shared with
// other handles; the prefix keeps the names apart).
std::string key_handle(const std::string &key) {
    return "idempotency\x1f" + key;
}

// Takes the key's handle lock. Only a wait needs order_credit.lock_timeout,
// so the GUC is applied only around it: the uncontended path (the common
// one) pays no set_config. Once the handle lock is held, the key's row can
// only be locked by the purge's short batch.
void lock_key_handle(const std::string &handle) {
    if (lock_handle(LockSpace::Handle, handle, /*wait=*/false)) return;
    LockTimeoutScope timeout(guc_lock_timeout_ms);
    lock_handle(LockSpace::Handle, handle, /*wait=*/true);  // 55P03 on timeout
    timeout.end();
}

// The single row of idempotency_begin (RETURNS TABLE), materialized with the
// executor's expected row type: no catalog lookup of the function's result
// type on every call (get_call_result_type), unlike return_one_row.
Datum begin_result(const Call &call, const Datum *values, const bool *nulls) {
    FunctionCallInfo fcinfo = call.fcinfo;
    pg_call([fcinfo, values, nulls] {
        ReturnSetInfo *rs = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
        bool expected = rs != nullptr && IsA(rs, ReturnSetInfo) && rs->expectedDesc != nullptr;
        InitMaterializedSRF(fcinfo, expected ? MAT_SRF_USE_EXPECTED_DESC : 0);
        rs = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
        if (rs->setDesc->natts != 5)
            elog(ERROR, "order_credit: idempotency_begin returns 5 columns, not %d",
                 rs->setDesc->natts);
        tuplestore_putvalues(rs->setResult, rs->setDesc, const_cast<Datum *>(values),
                             const_cast<bool *>(nulls));
    });
    return Datum(0);
}

Datum datum_or_null(const Rows &r, uint64 row, int col, bool *isnull) {
    *isnull = r.is_null(row, col);
    return r.datum(row, col);
}

// ---------------------------------------------------------------- idempotency

Datum idempotency_begin(FunctionCallInfo fcinfo) {
    return with_spi(fcinfo, [](const Call &call) {
        Args args(call.fcinfo);
        std::string key = args.key(0, "key");
        std::string fingerprint = coordination::text_arg(args, 1, "fingerprint");
        std::optional<Datum> lease =
            coordination::lease_length(args, 2, "lease", true, guc_max_idempotency_lease_s,
                         "order_credit.max_idempotency_lease");
        if (args.is_null(3)) throw Error(Code::NullValue, "wait must not be NULL");
        bool wait = pg_call([&args]() -> bool { return DatumGetBool(args.datum(3)); });
        Datum key_d = args.datum(0), fp_d = args.datum(1);
        Arg lease_a = lease ? val(*lease) : null_arg();
        std::string handle = key_handle(key);

        // A holder is detected without blocking; a completed key replays
        // without the lock (completed rows never change).
        bool locked = lock_handle(LockSpace::Handle, handle, /*wait=*/false);
        if (!locked) {
            Rows r = exec(S_key_get, {val(key_d), val(fp_d)});
            core::KeyFacts f;
            if (!r.empty()) f = {true, r.boolean(0, 2), r.boolean(0, 1), r.boolean(0, 3)};
            BeginState s =
                core::decide_begin(f, false, key, f.exists ? r.text(0, 8) : "", fingerprint);
            if (s == BeginState::InProgress && wait) {
                lock_key_handle(handle);
                locked = true;
            } else {
                Datum values[5] = {text_datum(std::string(core::to_string(s))), 0, 0, 0, 0};
                bool nulls[5] = {false, true, true, true, true};
                if (s == BeginState::Replay) {
                    values[1] = r.datum(0, 4);
                    values[2] = r.datum(0, 5);
                    nulls[1] = nulls[2] = false;
                    values[3] = datum_or_null(r, 0, 6, &nulls[3]);
                } else if (f.exists) {
                    values[4] = datum_or_null(r, 0, 7, &nulls[4]);
                }
                return begin_result(call, values, nulls);
            }
        }

        // Holding the key's lock: every other transaction that touched the
        // key has ended; decide on the committed row.
        Datum values[5] = {0, 0, 0, 0, 0};
        bool nulls[5] = {false, true, true, true, true};
        Rows ins = exec(S_key_insert, {val(key_d), val(fp_d), lease_a});
        BeginState s = BeginState::New;
        if (ins.empty()) {
            Rows r = exec(S_key_get, {val(key_d), val(fp_d)});
            if (r.empty())
                throw Error(Code::Internal, "order_credit: idempotency key vanished under its lock",
                            fmt::format("key={}", key));
            core::KeyFacts f{true, r.boolean(0, 2), r.boolean(0, 1), r.boolean(0, 3)};
            s = core::decide_begin(f, true, key, r.text(0, 8), fingerprint);
            if (s == BeginState::Replay) {
                values[1] = r.datum(0, 4);
                values[2] = r.datum(0, 5);
                nulls[1] = nulls[2] = false;
                values[3] = datum_or_null(r, 0, 6, &nulls[3]);
            } else if (s == BeginState::InProgress) {
                values[4] = datum_or_null(r, 0, 7, &nulls[4]);
            } else if (s == BeginState::Resume) {
                LockTimeoutScope timeout(guc_lock_timeout_ms);
                Rows u = exec(S_key_resume, {val(key_d), lease_a});
                timeout.end();
                if (u.empty())
                    throw Error(Code::Internal, "order_credit: resume changed no row",
                                fmt::format("key={}", key));
                values[3] = datum_or_null(u, 0, 1, &nulls[3]);
            }
        }
        values[0] = text_datum(std::string(core::to_string(s)));
        return begin_result(call, values, nulls);
    });
}

[[noreturn]] void key_not_found(const std::string &key) {
    throw Error(Code::ReferenceNotFound, fmt::format("no idempotency key \"{}\"", key),
                fmt::format("key={}", key),
                "Call order_credit.idempotency_begin() first (keys are purged after "
                "order_credit.idempotency_ttl).");
}

Datum idempotency_checkpoint(FunctionCallInfo fcinfo) {
    return with_spi(fcinfo, [](const Call &call) {
        Args args(call.fcinfo);
        std::string key = args.key(0, "key");
        coordination::text_arg(args, 1, "recovery_point");
        Datum key_d = args.datum(0), point_d = args.datum(1);
        lock_key_handle(key_handle(key));
        Rows u = exec(S_key_checkpoint, {val(key_d), val(point_d)});
        if (u.empty()) {
            Rows r = exec(S_key_state, {val(key_d), null_arg()});
            if (r.empty()) key_not_found(key);
            throw Error(Code::InvalidState,
                        fmt::format("idempotency key \"{}\" is already completed", key),
                        fmt::format("key={}, state={}", key, r.text(0, 1)),
                        "A completed key only replays its response.");
        }
        return Datum(0);
    });
}

Datum idempotency_complete(FunctionCallInfo fcinfo) {
    return with_spi(fcinfo, [](const Call &call) {
        Args args(call.fcinfo);
        std::string key = args.key(0, "key");
        if (args.is_null(1)) throw Error(Code::NullValue, "response must not be NULL");
        if (args.is_null(2)) throw Error(Code::NullValue, "response_code must not be NULL");
        Datum key_d = args.datum(0), resp_d = args.datum(1), code_d = args.datum(2);
        int code = pg_call([code_d]() -> int { return DatumGetInt32(code_d); });
        core::require_response_code(code);
        lock_key_handle(key_handle(key));
        Rows u = exec(S_key_complete, {val(key_d), val(resp_d), val(code_d)});
        if (u.empty()) {
            Rows r = exec(S_key_state, {val(key_d), val(resp_d)});
            if (r.empty()) key_not_found(key);
            core::check_complete_replay(key, r.boolean(0, 2), static_cast<int>(r.int8(0, 3)), code);
        }
        return Datum(0);
    });
}

// ---------------------------------------------------------------- events

Datum process_once(FunctionCallInfo fcinfo) {
    return with_spi(fcinfo, [](const Call &call) {
        Args args(call.fcinfo);
        args.key(0, "source");
        args.key(1, "event_id");
        // ON CONFLICT waits for a concurrent inserter of the same event to
        // end (at most order_credit.lock_timeout): false after its commit,
        // our insert after its rollback.
        use_call_lock_timeout();
        Rows r = exec(S_event, {val(args.datum(0)), val(args.datum(1))});
        return BoolGetDatum(!r.empty());
    });
}

}  // namespace
}  // namespace oc::pg

using namespace oc::pg;

OC_FUNCTION(oc_idempotency_begin) {
    return guard(fcinfo, "idempotency_begin", idempotency_begin);
}
OC_FUNCTION(oc_idempotency_checkpoint) {
    return guard(fcinfo, "idempotency_checkpoint", idempotency_checkpoint);
}
OC_FUNCTION(oc_idempotency_complete) {
    return guard(fcinfo, "idempotency_complete", idempotency_complete);
}
OC_FUNCTION(oc_process_once) {
    return guard(fcinfo, "process_once", process_once);
}
