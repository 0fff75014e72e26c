#include <cstring>
#include <exception>

#include "core/error.hpp"
#include "pg/guard.hpp"
#include "pg/settings.hpp"

extern "C" {
#include "optimizer/cost.h"
}

namespace oc::pg {

namespace {
// The innermost guarded call: C++ bookkeeping of which CallSettings the
// code below a guard() works for, not a PostgreSQL setting.
CallSettings *innermost = nullptr;
}  // namespace

CallSettings::CallSettings() noexcept
    : outer_(innermost),
      xact_level_(GetCurrentTransactionNestLevel()),
      seqscan_(enable_seqscan),
      hashjoin_(enable_hashjoin),
      mergejoin_(enable_mergejoin) {
    innermost = this;
}

CallSettings::~CallSettings() {
    innermost = outer_;
}

CallSettings &CallSettings::current() {
    if (innermost == nullptr)
        throw core::Error(core::Code::Internal,
                          "order_credit: a setting changed outside of a guarded call");
    return *innermost;
}

void CallSettings::set_raw(const char *name, const char *value) {
    // Inside an internal subtransaction of the call, its own nest level
    // keeps the saved value (see settings.hpp); the call's level is opened
    // only at the call's transaction nest level.
    if (guc_level_ == 0 && GetCurrentTransactionNestLevel() == xact_level_)
        guc_level_ = NewGUCNestLevel();
    (void)set_config_option(name, value, PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0,
                            false);
}

void CallSettings::set(const char *name, const char *value) {
    pg_call([this, name, value] { set_raw(name, value); });
}

void CallSettings::close() {
    if (guc_level_ == 0) return;
    int level = guc_level_;
    guc_level_ = 0;
    pg_call([level] { AtEOXact_GUC(true, level); });
}

namespace {
// Inside pg_call: puts `ms` in force as lock_timeout for `c` unless it is
// already. LockTimeout is the variable behind lock_timeout (read when a lock
// wait starts): reading it is reading the value in force.
void put_lock_timeout(CallSettings *c, int ms) {
    if (LockTimeout == ms) return;
    char value[16];
    snprintf(value, sizeof value, "%d", ms);  // milliseconds, lock_timeout's unit
    c->set_raw("lock_timeout", value);
}
}  // namespace

void set_lock_timeout(int ms) {
    if (LockTimeout == ms) return;
    CallSettings *c = &CallSettings::current();
    pg_call([c, ms] { put_lock_timeout(c, ms); });
}

void before_lock_wait() {
    CallSettings *c = innermost;
    if (c == nullptr || c->wait_ms_ < 0 || c->own_timeouts_ > 0) return;
    put_lock_timeout(c, c->wait_ms_);
}

OwnLockTimeout::OwnLockTimeout() : call_(&CallSettings::current()) {
    ++call_->own_timeouts_;
}

OwnLockTimeout::~OwnLockTimeout() {
    --call_->own_timeouts_;
}

LockTimeoutScope::LockTimeoutScope(int timeout_ms)
    : saved_(LockTimeout), uncaught_(std::uncaught_exceptions()) {
    set_lock_timeout(timeout_ms);
}

LockTimeoutScope::~LockTimeoutScope() {
    // Left without end() only by an exception (the abort restores it).
    bool unwinding = std::uncaught_exceptions() > uncaught_;
    Assert(ended_ || unwinding);
    (void)unwinding;
}

void LockTimeoutScope::end() {
    if (ended_) return;
    ended_ = true;
    set_lock_timeout(saved_);
}

void plan_statement(bool key_access, bool by_key) {
    CallSettings &s = CallSettings::current();
    bool seqscan = key_access || by_key ? false : s.caller_seqscan();
    bool hashjoin = key_access ? false : s.caller_hashjoin();
    bool mergejoin = key_access ? false : s.caller_mergejoin();
    if (enable_seqscan != seqscan) s.set("enable_seqscan", seqscan ? "on" : "off");
    if (enable_hashjoin != hashjoin) s.set("enable_hashjoin", hashjoin ? "on" : "off");
    if (enable_mergejoin != mergejoin) s.set("enable_mergejoin", mergejoin ? "on" : "off");
}

void pin_search_path() {
    if (namespace_search_path != nullptr && strcmp(namespace_search_path, kPinnedSearchPath) == 0)
        return;
    CallSettings::current().set("search_path", kPinnedSearchPath);
}

}  // namespace oc::pg
