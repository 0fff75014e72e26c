#include <chrono>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/keys.hpp"
#include "core/money.hpp"
#include "pg/common.hpp"

namespace oc::pg {

using core::Code;
using core::Error;

bool Args::is_null(int i) const {
    FunctionCallInfo fcinfo = fcinfo_;
    return PG_ARGISNULL(i);
}

Datum Args::datum(int i) const {
    FunctionCallInfo fcinfo = fcinfo_;
    return PG_GETARG_DATUM(i);
}

void Args::require_not_null(int i, const char *what) const {
    if (is_null(i)) throw Error(Code::NullValue, fmt::format("{} must not be NULL", what));
}

std::string Args::key(int i, const char *what) const {
    require_not_null(i, what);
    Datum d = datum(i);
    int chars = 0;
    char *s = pg_call([d, &chars]() -> char * {
        text *t = DatumGetTextPP(d);
        chars = pg_mbstrlen_with_len(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
        return text_to_cstring(t);
    });
    core::require_key_length(what, static_cast<size_t>(chars));
    return std::string(s);
}

namespace {
// A text Datum as a palloc'd C string, with its length in characters.
char *text_chars(Datum d, int *chars) {
    return pg_call([d, chars]() -> char * {
        text *t = DatumGetTextPP(d);
        *chars = pg_mbstrlen_with_len(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
        return text_to_cstring(t);
    });
}
}  // namespace

std::string Args::reason(int i, const char *what) const {
    if (is_null(i)) throw Error(Code::NullValue, fmt::format("{} must not be NULL", what));
    int chars = 0;
    char *s = text_chars(datum(i), &chars);
    core::require_reason(what, s, static_cast<size_t>(chars));
    return std::string(s);
}

std::optional<std::string> Args::opt_text(int i, const char *what) const {
    if (is_null(i)) return std::nullopt;
    int chars = 0;
    char *s = text_chars(datum(i), &chars);
    core::require_reason_length(what, static_cast<size_t>(chars));
    return std::string(s);
}

namespace {
std::string numeric_text(Datum d) {
    char *s =
        pg_call([d]() -> char * { return DatumGetCString(DirectFunctionCall1(numeric_out, d)); });
    return std::string(s);
}
}  // namespace

core::Money Args::amount(int i, const char *what) const {
    require_not_null(i, what);
    return core::require_amount(numeric_text(datum(i)), what);
}

std::optional<core::Money> Args::opt_amount(int i, const char *what) const {
    if (is_null(i)) return std::nullopt;
    return amount(i, what);
}

core::Money Args::non_negative(int i, const char *what) const {
    require_not_null(i, what);
    return core::require_non_negative(numeric_text(datum(i)), what);
}

std::optional<Datum> Args::opt_positive_interval(int i, const char *what) const {
    if (is_null(i)) return std::nullopt;
    Datum d = datum(i);
    bool positive = pg_call([d]() -> bool {
        Interval zero{};
        return DatumGetBool(DirectFunctionCall2(interval_gt, d, IntervalPGetDatum(&zero)));
    });
    if (!positive) {
        char *s = pg_call(
            [d]() -> char * { return DatumGetCString(DirectFunctionCall1(interval_out, d)); });
        throw Error(Code::InvalidParameter, fmt::format("{} must be a positive interval", what),
                    fmt::format("{}={}", what, s),
                    "Pass NULL for no expiry, or an interval such as '15 minutes'.");
    }
    return d;
}

std::optional<Datum> Args::opt_expiry_interval(int i, const char *what) const {
    std::optional<Datum> d = opt_positive_interval(i, what);
    if (!d) return d;
    Datum iv = *d;
    // timestamptz_pl_interval has no side effect: its out-of-range error can
    // be caught and replaced without a subtransaction.
    bool fits = true;
    try {
        pg_call([iv] {
            (void)DirectFunctionCall2(timestamptz_pl_interval,
                                      TimestampTzGetDatum(GetCurrentStatementStartTimestamp()), iv);
        });
    } catch (const PgError &e) {
        if (e.sqlerrcode() != ERRCODE_DATETIME_VALUE_OUT_OF_RANGE) throw;
        fits = false;
    }
    if (!fits) {
        char *s = pg_call(
            [iv]() -> char * { return DatumGetCString(DirectFunctionCall1(interval_out, iv)); });
        throw Error(Code::InvalidParameter, fmt::format("{} is too large", what),
                    fmt::format("{}={}: now + {} is past the last timestamp", what, s, what),
                    "Pass NULL for no expiry.");
    }
    return d;
}

uint64 lock_key(LockSpace space, const char *data, int len) {
    return hash_bytes_extended(reinterpret_cast<const unsigned char *>(data), len,
                               static_cast<uint64>(space));
}

uint64 lock_key(LockSpace space, const std::string &key) {
    return lock_key(space, key.data(), static_cast<int>(key.size()));
}

void advisory_tag(LOCKTAG *tag, LockSpace space, uint64 key) {
    SET_LOCKTAG_ADVISORY(*tag, MyDatabaseId, static_cast<uint32>(key >> 32),
                         static_cast<uint32>(key), static_cast<uint16>(space));
}

bool handle_held(LockSpace space, const std::string &key) {
    uint64 k = lock_key(space, key);
    return pg_call([k, space]() -> bool {
        LOCKTAG tag;
        advisory_tag(&tag, space, k);
        return LockHeldByMe(&tag, ExclusiveLock);
    });
}

bool take_advisory(LockSpace space, uint64 key, LOCKMODE mode, bool wait) {
    LOCKTAG tag;
    advisory_tag(&tag, space, key);
    return LockAcquire(&tag, mode, false, !wait) != LOCKACQUIRE_NOT_AVAIL;
}

namespace {
bool acquire_handle(LockSpace space, const std::string &key, bool wait, LOCKMODE mode) {
    uint64 k = lock_key(space, key);
    auto take = [k, space, mode](bool wait) {
        return pg_call([k, space, wait, mode] { return take_advisory(space, k, mode, wait); });
    };
    // Free at once: no wait, so no lock_timeout to put in force.
    if (take(false)) return true;
    if (!wait) return false;
    auto start = std::chrono::steady_clock::now();
    pg_call([] { before_lock_wait(); });
    bool got = take(true);
    stats::add_lock_wait_us(static_cast<int64_t>(ms_since(start) * 1000.0));
    return got;
}
}  // namespace

bool lock_handle(LockSpace space, const std::string &key, bool wait) {
    return acquire_handle(space, key, wait, ExclusiveLock);
}

void lock_handle_mode(LockSpace space, const std::string &key, int mode) {
    (void)acquire_handle(space, key, true, static_cast<LOCKMODE>(mode));
}

Datum caller_name() {
    return pg_call(
        []() -> Datum { return CStringGetTextDatum(GetUserNameFromId(GetOuterUserId(), false)); });
}

void debug_path(const char *what, const char *path) {
    pg_call(
        [what, path] { ereport(DEBUG2, (errmsg_internal("order_credit: %s: %s", what, path))); });
}

}  // namespace oc::pg
