#include <cstring>
#include <exception>
#include <new>

#include "core/error.hpp"
#include "pg/guard.hpp"

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

void raise(const CaughtError &e) {
    if (e.pg != nullptr) ReThrowError(e.pg);
    ereport(ERROR, (errcode(e.sqlerrcode), errmsg_internal("%s", e.message),
                    e.detail[0] ? errdetail_internal("%s", e.detail) : 0,
                    e.hint[0] ? errhint("%s", e.hint) : 0));
    pg_unreachable();
}

}  // namespace oc::pg
