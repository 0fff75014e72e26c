// The C++ <-> PostgreSQL error boundary, both directions.
//
//  * guard(): every SQL-callable entry point runs its C++ body through it. It
//    catches every exception, copies what it needs into fixed buffers (no
//    allocation, nothing that can ereport inside a catch block), leaves the
//    catch, and only then raises the PostgreSQL error. No C++ exception ever
//    reaches a C frame.
//  * pg_call(): every PostgreSQL call that can ereport(ERROR) from inside C++
//    code goes through it. The longjmp lands in pg_call's own frame, which
//    holds no C++ object; the error is copied and re-thrown as a C++
//    exception (PgError), so destructors of live C++ objects run normally on
//    the way up to guard(), which re-raises it unchanged (same SQLSTATE,
//    message, detail, context).
//
// Rule for the rest of src/pg: inside a pg_call lambda, no C++ object with a
// destructor is created; outside it, no PostgreSQL function that can
// ereport is called.
#pragma once

#include <chrono>
#include <exception>
#include <new>
#include <type_traits>

#include "core/error.hpp"
#include "pg/settings.hpp"
#include "pg/stats.hpp"
#include "pg/pg.hpp"

namespace oc::pg {

// A PostgreSQL ERROR caught by pg_call, in flight as a C++ exception.
class PgError : public std::exception {
  public:
    explicit PgError(ErrorData *edata) noexcept : edata_(edata) {}
    ErrorData *edata() const noexcept { return edata_; }
    int sqlerrcode() const noexcept { return edata_->sqlerrcode; }
    const char *what() const noexcept override {
        return edata_->message ? edata_->message : "PostgreSQL error";
    }

  private:
    ErrorData *edata_;  // palloc'd in the context current at the pg_call
};

template <typename F>
auto pg_call(F &&f) -> decltype(f()) {
    using R = decltype(f());
    static_assert(std::is_void_v<R> || std::is_trivially_copyable_v<R>,
                  "pg_call may only return plain values");
    MemoryContext cxt = CurrentMemoryContext;
    ErrorData *volatile edata = nullptr;
    if constexpr (std::is_void_v<R>) {
        PG_TRY();
        { f(); }
        PG_CATCH();
        {
            MemoryContextSwitchTo(cxt);
            edata = CopyErrorData();
            FlushErrorState();
        }
        PG_END_TRY();
        if (edata != nullptr) throw PgError(edata);
    } else {
        R result{};
        R *volatile out = &result;  // in memory, not a register, across the setjmp
        PG_TRY();
        { *out = f(); }
        PG_CATCH();
        {
            MemoryContextSwitchTo(cxt);
            edata = CopyErrorData();
            FlushErrorState();
        }
        PG_END_TRY();
        if (edata != nullptr) throw PgError(edata);
        return result;
    }
}

// What guard() keeps of an exception between leaving the catch block and
// raising the PostgreSQL error. Fixed buffers: filling it never allocates.
struct CaughtError {
    ErrorData *pg = nullptr;  // a PostgreSQL error to re-raise as is
    int sqlerrcode = 0;
    char message[1024] = {0};
    char detail[1024] = {0};
    char hint[512] = {0};
    bool caught = false;

    void set(int code, const char *msg, const char *det = nullptr,
             const char *hnt = nullptr) noexcept;
    // Captures the exception currently being handled. Call only inside a catch.
    void capture_current() noexcept;
};

// Raises `e` as a PostgreSQL ERROR. Must not be called inside a catch block.
[[noreturn]] void raise(const CaughtError &e);

// SQLSTATE of a core code, as PostgreSQL's packed int.
int to_sqlerrcode(core::Code code) noexcept;

inline double ms_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
        .count();
}

// Refuses a function that writes with 25006 (ERRCODE_READ_ONLY_SQL_TRANSACTION)
// on a standby or in a read-only transaction, naming it in the message.
// "Writes" is read from the function's declaration, the extension's rule
// (src/sql/00_header.sql): VOLATILE and SECURITY DEFINER. Every other
// function (status, verify, stats, lock) returns and runs. guard() calls it
// before the body, only when XactReadOnly is set (a standby forces it on
// in every transaction), so a read-write call pays one flag test.
void refuse_write_if_read_only(FunctionCallInfo fcinfo);

// `operation` names the call in order_credit.stats (nullptr: not counted).
template <typename Body>
Datum guard(FunctionCallInfo fcinfo, const char *operation, Body &&body) {
    CaughtError err;
    auto start = std::chrono::steady_clock::now();
    stats::begin_call();
    {
        // The settings the call changes (pg/settings.hpp): put back by
        // close() on a normal return, by the (sub)transaction abort on an
        // error. Destroyed before raise() leaves this frame.
        CallSettings settings;
        try {
            if (XactReadOnly) refuse_write_if_read_only(fcinfo);
            Datum result = body(fcinfo);
            settings.close();
            stats::end_call(operation, stats::overridden_outcome(stats::kOk), ms_since(start));
            return result;
        } catch (...) {
            err.capture_current();
        }
    }
    stats::end_call(
        operation,
        stats::outcome_of_sqlerrcode(err.pg != nullptr ? err.pg->sqlerrcode : err.sqlerrcode),
        ms_since(start));
    raise(err);
}

template <typename Body>
Datum guard(FunctionCallInfo fcinfo, Body &&body) {
    return guard(fcinfo, nullptr, std::forward<Body>(body));
}

}  // namespace oc::pg
