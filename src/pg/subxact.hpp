// Internal subtransactions for the try_ variants: run a body, and on a
// business outcome (OC001-OC011, 55P03) roll back exactly its effects and
// report the outcome instead of raising.
#pragma once

#include <exception>
#include <string>

#include "core/error.hpp"
#include "pg/guard.hpp"

namespace oc::pg {

struct Outcome {
    bool ok = true;
    core::Code code = core::Code::Internal;
    std::string message;
};

// Runs body() inside BeginInternalSubTransaction. Success releases the
// subtransaction. A business outcome rolls it back and is returned; any other
// error rolls it back too, then propagates unchanged. The subtransaction is
// always closed before anything leaves this function, so callers with their
// own subtransactions (PL/pgSQL EXCEPTION blocks) stay balanced.
template <typename Body>
Outcome attempt(Body &&body) {
    MemoryContext cxt = CurrentMemoryContext;
    ResourceOwner owner = CurrentResourceOwner;
    pg_call([cxt] {
        BeginInternalSubTransaction(nullptr);
        MemoryContextSwitchTo(cxt);
    });
    std::exception_ptr failure;
    try {
        body();
    } catch (...) {
        failure = std::current_exception();
    }
    if (!failure) {
        pg_call([cxt, owner] {
            ReleaseCurrentSubTransaction();
            MemoryContextSwitchTo(cxt);
            CurrentResourceOwner = owner;
        });
        return Outcome{};
    }
    pg_call([cxt, owner] {
        RollbackAndReleaseCurrentSubTransaction();
        MemoryContextSwitchTo(cxt);
        CurrentResourceOwner = owner;
    });
    try {
        std::rethrow_exception(failure);
    } catch (const core::Error &e) {
        if (!core::is_business_outcome(e.code())) throw;
        return Outcome{false, e.code(), e.message()};
    } catch (const PgError &e) {
        if (e.sqlerrcode() != ERRCODE_LOCK_NOT_AVAILABLE) throw;
        return Outcome{false, core::Code::LockTimeout, e.what()};
    }
}

// Runs body() in an internal subtransaction and keeps its effects only when it
// returns true. When it returns false, or throws, the subtransaction is rolled
// back, which also releases every row lock body() took (for example a row that
// SELECT ... FOR UPDATE SKIP LOCKED locked and then rejected on recheck).
// Exceptions propagate after the rollback.
template <typename Body>
bool keep_if(Body &&body) {
    MemoryContext cxt = CurrentMemoryContext;
    ResourceOwner owner = CurrentResourceOwner;
    pg_call([cxt] {
        BeginInternalSubTransaction(nullptr);
        MemoryContextSwitchTo(cxt);
    });
    bool keep = false;
    std::exception_ptr failure;
    try {
        keep = body();
    } catch (...) {
        failure = std::current_exception();
    }
    if (keep && !failure) {
        pg_call([cxt, owner] {
            ReleaseCurrentSubTransaction();
            MemoryContextSwitchTo(cxt);
            CurrentResourceOwner = owner;
        });
        return true;
    }
    pg_call([cxt, owner] {
        RollbackAndReleaseCurrentSubTransaction();
        MemoryContextSwitchTo(cxt);
        CurrentResourceOwner = owner;
    });
    if (failure) std::rethrow_exception(failure);
    return false;
}

}  // namespace oc::pg
