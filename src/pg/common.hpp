// Shared pieces of the SQL-callable functions: argument validation with the
// contract's SQLSTATEs, GUCs, lock timeout, handle locks.
#pragma once

#include <optional>
#include <string>

#include "core/money.hpp"
#include "pg/settings.hpp"
#include "pg/spi.hpp"

namespace oc::pg {

// GUC storage (defined in module.cpp).
extern int guc_lock_timeout_ms;          // order_credit.lock_timeout
extern int guc_default_ttl_s;            // order_credit.default_ttl
extern int guc_sweep_interval_ms;        // order_credit.sweep_interval
extern int guc_sweep_batch;              // order_credit.sweep_batch
extern int guc_sweep_chunk;              // order_credit.sweep_chunk
extern int guc_sweep_nice;               // order_credit.sweep_nice
extern char *guc_database;               // order_credit.database
extern int guc_idempotency_ttl_s;        // order_credit.idempotency_ttl
extern int guc_event_retention_s;        // order_credit.event_retention
extern int guc_expire_max_rate;          // order_credit.expire_max_rate (rows/s, 0: unpaced)
extern int guc_max_named_locks;          // order_credit.max_named_locks (per transaction)
extern int guc_max_lease_s;              // order_credit.max_lease
extern int guc_max_idempotency_lease_s;  // order_credit.max_idempotency_lease
extern int guc_lease_retention_s;        // order_credit.lease_retention
extern int guc_finished_retention_s;     // order_credit.finished_retention (0: kept)

// Resets the per-transaction count of named locks when a transaction ends
// (registered once, from _PG_init).
void register_named_lock_count();

// Argument access. Every accessor raises 22004 for a NULL where a value is
// required and 22023 for a value the contract refuses; `what` names the
// argument in messages.
class Args {
  public:
    explicit Args(FunctionCallInfo fcinfo) : fcinfo_(fcinfo) {}
    bool is_null(int i) const;
    Datum datum(int i) const;
    // A contract key (1..200 characters). Returns the text.
    std::string key(int i, const char *what) const;
    // Optional free text (reason); nullopt when NULL.
    std::optional<std::string> opt_text(int i, const char *what) const;
    // Required free text (a reason that must be given): not NULL, not blank.
    std::string reason(int i, const char *what) const;
    // A strictly positive amount with at most 4 decimals.
    core::Money amount(int i, const char *what) const;
    std::optional<core::Money> opt_amount(int i, const char *what) const;
    // A non-negative amount (credit limits).
    core::Money non_negative(int i, const char *what) const;
    // A strictly positive interval; nullopt when NULL (the contract's "never").
    std::optional<Datum> opt_positive_interval(int i, const char *what) const;
    // An expiry: a strictly positive interval that, added to the statement's
    // start, still gives a timestamp (else 22023, not the 22008 the addition
    // would raise later); nullopt when NULL.
    std::optional<Datum> opt_expiry_interval(int i, const char *what) const;

  private:
    void require_not_null(int i, const char *what) const;
    FunctionCallInfo fcinfo_;
};

// The call's lock waits use order_credit.lock_timeout, put in force at the
// first wait (before_lock_wait, pg/settings.hpp).
inline void use_call_lock_timeout() {
    CallSettings::current().wait_with_timeout(guc_lock_timeout_ms);
}

// Advisory-lock spaces of the extension (locktag field 4). PostgreSQL's own
// pg_advisory_* functions use 1 and 2, so these never collide with an
// application's advisory locks.
enum class LockSpace : uint16 {
    NamedLock = 0x4F43,    // order_credit.lock() / try_lock()
    OrderRef = 0x4F44,     // serializes calls on one order_ref
    PaymentRef = 0x4F45,   // serializes calls on one (account, payment_ref)
    Handle = 0x4F46,       // other handles (idempotency keys, events, ...)
    BucketGate = 0x4F47,   // queue of buyers for one bucket of a striped item
    StockLevel = 0x4F48,   // one item's bucket layout (re-stripe vs commit and release)
    StockOnHand = 0x4F49,  // one item's on_hand changes, one at a time (stock_audit's chain)
    DueSweep = 0x4F4A,     // the buyer that expires an item's due claims (only tried, never waited)
};

// 64-bit key of a text in a space (the spaces: docs/DEVELOPING.md).
uint64 lock_key(LockSpace space, const std::string &key);
// The same key of `len` bytes at `data` (a text datum's contents).
uint64 lock_key(LockSpace space, const char *data, int len);
// The advisory lock tag of `key` in `space`, in the current database.
void advisory_tag(LOCKTAG *tag, LockSpace space, uint64 key);
// Inside pg_call: takes the transaction-scoped advisory lock on `key` in
// `space` in `mode`, waiting (at most lock_timeout) or not; false when not
// waiting and it is held elsewhere. Every advisory lock of the extension is
// taken here (lock_handle, and the direct writers, which hold no C++ string).
bool take_advisory(LockSpace space, uint64 key, LOCKMODE mode, bool wait);
// Takes a transaction-scoped exclusive advisory lock on `key` in `space`,
// waiting at most PostgreSQL's lock_timeout (55P03). Returns false only when
// `wait` is false and the lock is held elsewhere.
bool lock_handle(LockSpace space, const std::string &key, bool wait = true);
// True when this transaction already holds `key` in `space` exclusively.
bool handle_held(LockSpace space, const std::string &key);
// The same in another PostgreSQL lock `mode` (RowExclusiveLock does not
// conflict with itself, ...), always waiting.
void lock_handle_mode(LockSpace space, const std::string &key, int mode);

// Name of the role the caller acts as (SET ROLE / session user), unaffected
// by SECURITY DEFINER: what the ledger records as created_by.
Datum caller_name();

// Reports at DEBUG2 which path a write took ("order_credit: <what>: <path>";
// SET client_min_messages = debug2 shows it).
void debug_path(const char *what, const char *path);

}  // namespace oc::pg
