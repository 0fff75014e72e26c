// Coordination: SQL-callable functions of docs/reference.md's coordination part
// (idempotency keys, named locks, leases with fencing tokens, exactly-once
// events) and their purge. Rules in src/core/coordination.hpp; design and
// guarantees in docs/coordination.md.
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
#define OC_LEASE_ACQUIRE(FIRST, NEXT)                                                      \
    "INSERT INTO order_credit.leases AS l (key, owner, token, expires_at) "               \
    "VALUES ($1, $2, " FIRST ", statement_timestamp() + $3) "                              \
    "ON CONFLICT (key) DO UPDATE "                                                         \
    "   SET owner = excluded.owner, token = " NEXT ", expires_at = excluded.expires_at, "  \
    "       acquired_at = statement_timestamp(), updated_at = statement_timestamp() "      \
    " WHERE l.owner IS NULL OR l.expires_at <= statement_timestamp() "                     \
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

Statement S_event(
    "INSERT INTO order_credit.processed_events (source, event_id) VALUES ($1, $2) "
    "ON CONFLICT DO NOTHING RETURNING 1",
    {TEXTOID, TEXTOID});

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

// A required, non-empty text of at most 1000 characters.
std::string coordination_text(const Args &args, int i, const char *what) {
    if (args.is_null(i)) throw Error(Code::NullValue, fmt::format("{} must not be NULL", what));
    Datum d = args.datum(i);
    int chars = 0;
    char *s = pg_call([d, &chars]() -> char * {
        text *t = DatumGetTextPP(d);
        chars = pg_mbstrlen_with_len(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
        return text_to_cstring(t);
    });
    core::require_coordination_text(what, static_cast<size_t>(chars));
    return std::string(s);
}

// A lease length: a strictly positive interval that can be added to now, of
// at most `max_s` seconds (the GUC `setting`); nullopt when NULL and
// `optional`.
std::optional<Datum> lease_length(const Args &args, int i, const char *what, bool optional,
                                  int max_s, const char *setting) {
    if (args.is_null(i)) {
        if (optional) return std::nullopt;
        throw Error(Code::NullValue, fmt::format("{} must not be NULL", what));
    }
    Datum d = *args.opt_expiry_interval(i, what);
    Interval iv = pg_call([d]() -> Interval { return *DatumGetIntervalP(d); });
    core::require_lease_length(what, iv.time, iv.day, iv.month, max_s, setting);
    return d;
}

int64_t token_arg(const Args &args, int i) {
    if (args.is_null(i)) throw Error(Code::NullValue, "token must not be NULL");
    Datum d = args.datum(i);
    int64_t token = pg_call([d]() -> int64_t { return DatumGetInt64(d); });
    core::require_token("token", token);
    return token;
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
        std::string fingerprint = coordination_text(args, 1, "fingerprint");
        std::optional<Datum> lease =
            lease_length(args, 2, "lease", true, guc_max_idempotency_lease_s,
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
        coordination_text(args, 1, "recovery_point");
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
        Datum ttl = *lease_length(args, 2, "ttl", false, guc_max_lease_s, "order_credit.max_lease");
        Datum key_d = args.datum(0), owner_d = args.datum(1);
        apply_lock_timeout();
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
        int64_t token = token_arg(args, 2);
        Datum ttl = *lease_length(args, 3, "ttl", false, guc_max_lease_s, "order_credit.max_lease");
        apply_lock_timeout();
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
        int64_t token = token_arg(args, 2);
        apply_lock_timeout();
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
        apply_lock_timeout();
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
        int64_t token = token_arg(args, 1);
        apply_lock_timeout();
        Rows r = exec(S_fence, {val(args.datum(0))});
        if (r.empty())
            throw Error(Code::ReferenceNotFound, fmt::format("no lease \"{}\"", key),
                        fmt::format("key={}, token={}", key, token),
                        "Fencing tokens come from order_credit.acquire_lease().");
        core::check_fence(key, token, r.int8(0, 1));
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
        apply_lock_timeout();
        Rows r = exec(S_event, {val(args.datum(0)), val(args.datum(1))});
        return BoolGetDatum(!r.empty());
    });
}

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

}  // namespace

void register_named_lock_count() {
    RegisterXactCallback(named_locks_xact_end, nullptr);
}

namespace {
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

OC_FUNCTION(oc_idempotency_begin) {
    return guard(fcinfo, "idempotency_begin", idempotency_begin);
}
OC_FUNCTION(oc_idempotency_checkpoint) {
    return guard(fcinfo, "idempotency_checkpoint", idempotency_checkpoint);
}
OC_FUNCTION(oc_idempotency_complete) {
    return guard(fcinfo, "idempotency_complete", idempotency_complete);
}
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
OC_FUNCTION(oc_process_once) {
    return guard(fcinfo, "process_once", process_once);
}
OC_FUNCTION(oc_purge_coordination) {
    return guard(fcinfo, "_purge_coordination", [](FunctionCallInfo f) {
        return purge_coordination(f, purge_coordination_step_v1_0);
    });
}
OC_FUNCTION(oc_purge_coordination_v1_1) {
    return guard(fcinfo, "_purge_coordination",
                 [](FunctionCallInfo f) { return purge_coordination(f, purge_coordination_step); });
}
