// The PostgreSQL settings an order_credit call changes while it runs:
// lock_timeout, the planner's enable_seqscan / enable_hashjoin /
// enable_mergejoin, and search_path. They are changed only through the GUC
// machinery (set_config_option with GUC_ACTION_SAVE at a GUC nest level, as
// a function's SET clause is applied), so current_setting() and SHOW inside
// a call (a user trigger's, for instance) read the value in force, and the
// caller gets back exactly what it had.
//
// One nest level per call, opened the first time the call changes a
// setting, closed once when it returns: PostgreSQL 15's AtEOXact_GUC walks
// every GUC variable, so the cost is paid at most once per call, and not at
// all by a call that changes nothing. A setting is changed only when the
// value in force differs from the one wanted, and only when something reads
// it: search_path and the planner flags before an SPI statement (the direct
// writers run none), lock_timeout before a lock wait (a lock that is free at
// once is taken without waiting first, see before_lock_wait). An
// uncontended direct call therefore changes no setting at all.
//
// Every way out puts the settings back:
//  * a normal return: guard() calls close() (AtEOXact_GUC(true, level));
//  * an error: nothing here. The error leaves the call (guard() re-raises
//    it) and the abort of the (sub)transaction it ends in pops every nest
//    level opened inside it (AtEOXact_GUC(false, ...)). While an error is in
//    flight as PgError, PostgreSQL's error state has been flushed but the
//    failed work is not cleaned up yet: destructors therefore never call
//    PostgreSQL, they only drop C++ bookkeeping;
//  * an internal subtransaction of the call (Subxact in pg/subxact.hpp:
//    attempt, keep_if, expire_due's unless_busy): a setting changed inside
//    it is saved at the subtransaction's own nest level (every
//    subtransaction opens one), so its commit and its rollback both put back
//    the value in force before it. The call's own level is therefore only
//    ever opened at the call's transaction nest level, never inside such a
//    subtransaction: its rollback would pop it, and close() would then
//    close a level that no longer exists.
#pragma once

namespace oc::pg {

// One per guarded SQL-callable call (guard() in pg/guard.hpp); nested calls
// (a user trigger calling order_credit inside a call) each have their own.
class CallSettings {
  public:
    CallSettings() noexcept;
    ~CallSettings();  // C++ bookkeeping only, never a PostgreSQL call
    CallSettings(const CallSettings &) = delete;
    CallSettings &operator=(const CallSettings &) = delete;

    // The innermost guarded call (Code::Internal outside of one).
    static CallSettings &current();

    // Puts `value` in force for `name` (GUC_ACTION_SAVE): for the rest of
    // the call, or of the internal subtransaction it runs in. Call only
    // when the value in force differs.
    void set(const char *name, const char *value);
    // The same inside pg_call (may ereport, never throws).
    void set_raw(const char *name, const char *value);

    // A normal return: puts back everything changed at the call's level.
    void close();

    // The planner settings in force when the call started (kBatch
    // statements run with them).
    bool caller_seqscan() const { return seqscan_; }
    bool caller_hashjoin() const { return hashjoin_; }
    bool caller_mergejoin() const { return mergejoin_; }

    // The lock_timeout this call's waits use (-1: the caller's), put in
    // force by before_lock_wait().
    void wait_with_timeout(int ms) { wait_ms_ = ms; }

  private:
    friend void before_lock_wait();
    friend class OwnLockTimeout;
    CallSettings *outer_;
    int xact_level_;  // transaction nest level at the call's start
    int wait_ms_ = -1;
    int own_timeouts_ = 0;  // live OwnLockTimeout objects
    int guc_level_ = 0;     // the call's GUC nest level, 0 while not opened
    bool seqscan_, hashjoin_, mergejoin_;
};

// Puts `ms` (0: wait forever) in force as lock_timeout for the rest of the
// call, or of the internal subtransaction it runs in.
void set_lock_timeout(int ms);

// Called right before anything that may wait for a lock: puts the call's
// wait timeout (wait_with_timeout) in force, unless code of the call has put
// a lock_timeout of its own in force (OwnLockTimeout). A no-op outside a
// guarded call and in a call that declared no timeout. Inside pg_call only
// (may ereport, never throws).
void before_lock_wait();

// While alive, the lock_timeout the code put in force itself stays for its
// waits (before_lock_wait leaves it). C++ bookkeeping only.
class OwnLockTimeout {
  public:
    OwnLockTimeout();
    ~OwnLockTimeout();
    OwnLockTimeout(const OwnLockTimeout &) = delete;
    OwnLockTimeout &operator=(const OwnLockTimeout &) = delete;

  private:
    CallSettings *call_;
};

// Puts a lock_timeout in force until end() puts back the value it replaced,
// for a wait in the middle of a call. Not RAII: the destructor does nothing
// (an error unwinding through it is cleaned up by the abort, see above), so
// a normal exit must call end(); left without end(), the value stays until
// the call returns.
class LockTimeoutScope {
  public:
    explicit LockTimeoutScope(int timeout_ms);
    ~LockTimeoutScope();
    LockTimeoutScope(const LockTimeoutScope &) = delete;
    LockTimeoutScope &operator=(const LockTimeoutScope &) = delete;
    void end();

  private:
    OwnLockTimeout own_;
    int saved_;
    int uncaught_;  // std::uncaught_exceptions() at construction
    bool ended_ = false;
};

// Planner settings for the next statement: key access (no sequential scan,
// hash or merge join), key access to other tables only (`by_key`: no
// sequential scan), or neither (the caller's settings). See Statement in
// pg/spi.hpp.
void plan_statement(bool key_access, bool by_key);

// The search path every statement of the extension is prepared and run
// under, put in force for the rest of the call before its first SPI
// statement (exec in pg/spi.cpp). See with_spi in pg/spi.hpp.
inline constexpr const char *kPinnedSearchPath = "pg_catalog, pg_temp";
void pin_search_path();

}  // namespace oc::pg
