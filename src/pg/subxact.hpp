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

// An internal subtransaction opened in the caller's memory context and
// resource owner, closed (released or rolled back) back into them.
class Subxact {
  public:
    Subxact() : cxt_(CurrentMemoryContext), owner_(CurrentResourceOwner) {
        MemoryContext cxt = cxt_;
        pg_call([cxt] {
            BeginInternalSubTransaction(nullptr);
            MemoryContextSwitchTo(cxt);
        });
    }
    void close(bool keep) {
        MemoryContext cxt = cxt_;
        ResourceOwner owner = owner_;
        pg_call([cxt, owner, keep] {
            if (keep)
                ReleaseCurrentSubTransaction();
            else
                RollbackAndReleaseCurrentSubTransaction();
            MemoryContextSwitchTo(cxt);
            CurrentResourceOwner = owner;
        });
    }

  private:
    MemoryContext cxt_;
    ResourceOwner owner_;
};

// Runs body() inside BeginInternalSubTransaction. Success releases the
// subtransaction. A business outcome rolls it back and is returned; any other
// error rolls it back too, then propagates unchanged. The subtransaction is
// always closed before anything leaves this function, so callers with their
// own subtransactions (PL/pgSQL EXCEPTION blocks) stay balanced.
template <typename Body>
Outcome attempt(Body &&body) {
    Subxact sx;
    std::exception_ptr failure;
    try {
        body();
    } catch (...) {
        failure = std::current_exception();
    }
    sx.close(!failure);
    if (!failure) return Outcome{};
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
    Subxact sx;
    bool keep = false;
    std::exception_ptr failure;
    try {
        keep = body();
    } catch (...) {
        failure = std::current_exception();
    }
    sx.close(keep && !failure);
    if (failure) std::rethrow_exception(failure);
    return keep;
}

}  // namespace oc::pg
