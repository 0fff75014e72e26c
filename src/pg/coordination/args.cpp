#include <optional>
#include <string>

#include <fmt/format.h>

#include "core/coordination.hpp"
#include "core/error.hpp"
#include "pg/coordination/args.hpp"

namespace oc::pg::coordination {

using core::Code;
using core::Error;

std::string text_arg(const Args &args, int i, const char *what) {
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

}  // namespace oc::pg::coordination
