#include <cstring>
#include <exception>
#include <new>

#include "core/error.hpp"
#include "pg/guard.hpp"

extern "C" {
#include "access/xlog.h"
#include "catalog/pg_proc.h"
#include "utils/syscache.h"
}

namespace oc::pg {

namespace {
void copy_text(char *dst, size_t size, const char *src) noexcept {
    if (src == nullptr) {
        dst[0] = '\0';
        return;
    }
    size_t n = strnlen(src, size - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}
}  // namespace

int to_sqlerrcode(core::Code code) noexcept {
    const char *s = core::sqlstate(code).data();
    return MAKE_SQLSTATE(s[0], s[1], s[2], s[3], s[4]);
}

void CaughtError::set(int code, const char *msg, const char *det, const char *hnt) noexcept {
    caught = true;
    sqlerrcode = code;
    copy_text(message, sizeof message, msg);
    copy_text(detail, sizeof detail, det);
    copy_text(hint, sizeof hint, hnt);
}

void CaughtError::capture_current() noexcept {
    try {
        throw;
    } catch (const PgError &e) {
        caught = true;
        pg = e.edata();
    } catch (const core::Error &e) {
        set(to_sqlerrcode(e.code()), e.message().c_str(), e.detail().c_str(), e.hint().c_str());
    } catch (const std::bad_alloc &) {
        set(ERRCODE_OUT_OF_MEMORY, "out of memory", "A C++ allocation failed in order_credit.");
    } catch (const std::exception &e) {
        set(ERRCODE_INTERNAL_ERROR, "order_credit internal error", e.what());
    } catch (...) {
        set(ERRCODE_INTERNAL_ERROR, "order_credit internal error", "unknown C++ exception");
    }
}

void refuse_write_if_read_only(FunctionCallInfo fcinfo) {
    if (fcinfo->flinfo == nullptr || !OidIsValid(fcinfo->flinfo->fn_oid)) return;
    Oid fn = fcinfo->flinfo->fn_oid;
    pg_call([fn] {
        HeapTuple tuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(fn));
        if (!HeapTupleIsValid(tuple)) elog(ERROR, "cache lookup failed for function %u", fn);
        Form_pg_proc proc = reinterpret_cast<Form_pg_proc>(GETSTRUCT(tuple));
        bool writes = proc->provolatile == PROVOLATILE_VOLATILE && proc->prosecdef;
        NameData name = proc->proname;
        ReleaseSysCache(tuple);
        if (!writes) return;
        if (RecoveryInProgress())
            ereport(ERROR,
                    (errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
                     errmsg("order_credit.%s() cannot run on a standby server", NameStr(name)),
                     errdetail("The server is in recovery: it replays the primary's changes and "
                               "accepts no writes of its own."),
                     errhint("Run it on the primary server.")));
        ereport(ERROR,
                (errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
                 errmsg("order_credit.%s() cannot run in a read-only transaction", NameStr(name)),
                 errhint("Run it in a read-write transaction (BEGIN READ WRITE, or "
                         "default_transaction_read_only = off).")));
    });
}

void raise(const CaughtError &e) {
    if (e.pg != nullptr) ReThrowError(e.pg);
    ereport(ERROR, (errcode(e.sqlerrcode), errmsg_internal("%s", e.message),
                    e.detail[0] ? errdetail_internal("%s", e.detail) : 0,
                    e.hint[0] ? errhint("%s", e.hint) : 0));
    pg_unreachable();
}

}  // namespace oc::pg
