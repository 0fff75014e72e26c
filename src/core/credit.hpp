// Credit-line rules: two-phase transfers (hold -> capture | void | expire,
// captured -> reversed), as pure functions over balances read under a row
// lock. The database clock decides expiry; callers pass `expired` in.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/money.hpp"

namespace oc::core {

struct Balances {
    Money credit_limit;
    Money posted;   // captured and unpaid
    Money pending;  // live holds
    Money available() const { return credit_limit - posted - pending; }
};

enum class HoldStatus { Pending, Captured, Voided, Expired, Reversed };
std::string_view to_string(HoldStatus s) noexcept;
// Throws Error(Internal) on an unknown status text (corrupt row).
HoldStatus parse_hold_status(std::string_view s);

// Detail text with the numbers that matter, as every OC error carries.
std::string balance_detail(const Balances &b, std::optional<Money> requested = std::nullopt);

// Whether a new hold of `amount` may be placed on an account as it stands:
// None, or why not. HoldsDue: a hold may have fallen due (next_expiry is not
// in the future), so its amount may still count in pending; the writer
// expires the account's due holds first and decides again.
enum class HoldRefusal { None, Blocked, HoldsDue, Insufficient };
HoldRefusal hold_refusal(const Balances &b, bool blocked, bool holds_due, Money amount) noexcept;

// A new hold of `amount` against an account whose due holds are expired.
// Throws OC002 when blocked and OC001 when the amount exceeds what is
// available (hold_refusal).
void check_reserve(std::string_view account, const Balances &b, bool blocked, Money amount);

struct Hold {
    std::string order_ref;
    Money amount;
    Money captured;
    HoldStatus status;
    bool expired;  // expires_at <= database now()
};

// The status a reader sees: a pending hold past its expiry is expired.
HoldStatus effective_status(const Hold &h) noexcept;

// A repeated reserve with the same order_ref: replay when the arguments match,
// OC009 otherwise.
void check_reserve_replay(const Hold &existing, std::string_view existing_account,
                          std::string_view account, Money amount, bool same_ttl);

struct CaptureAction {
    bool replay = false;  // already captured with these arguments: change nothing
    Money capture;        // moves from pending to posted
    Money remainder;      // released from pending (partial capture)
    Money held;           // the hold's amount: capture + remainder, leaves pending
};
// pending -> captured. `requested` empty captures the whole hold.
CaptureAction decide_capture(const Hold &h, std::optional<Money> requested);

enum class ReleaseKind { Replay, Void, Expire, Reverse };
struct ReleaseAction {
    ReleaseKind kind;
    Money amount;  // pending released (void, expire) or posted cancelled (reverse)
};
// pending -> voided, captured -> reversed; releasing a released hold is a replay.
ReleaseAction decide_release(const Hold &h, const Balances &b);

// A payment reduces posted; it may not exceed the debt.
void check_payment(std::string_view account, const Balances &b, Money amount);

// What each transfer does to the account's balances. Every writer, direct
// or SQL, stores these: the account's new posted and pending, and the
// posted_after / pending_after of each ledger entry it writes, in order.
// Amounts are taken as the writers store them (canonical, see Money), so
// the display scale of each result is what numeric arithmetic gives.
// Throws Error(Internal) when a balance would go negative (the rows
// disagree with the decision that allowed the transfer).
Balances after_hold(const Balances &b, Money amount);
// The capture entry, then (when the capture is partial) the entry that
// releases the remainder; the last is the account's new state.
struct CaptureBalances {
    Balances captured;
    Balances released;
};
CaptureBalances after_capture(const Balances &b, const CaptureAction &a);
// Void and expire give pending back; reverse takes the capture off posted.
Balances after_release(const Balances &b, const ReleaseAction &a);
Balances after_payment(const Balances &b, Money amount);
// Expiry of several holds, in the order given (the ledger's order): the
// balances after each one, that is, after the whole expiry plus the holds
// still to come.
std::vector<Balances> after_expiry(const Balances &b, const std::vector<Money> &amounts);

// A new credit limit may be below what is in use (new holds then fail); it
// only has to be non-negative, which require_non_negative checks.

}  // namespace oc::core
