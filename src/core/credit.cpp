#include "core/credit.hpp"

#include <fmt/format.h>

#include "core/error.hpp"

namespace oc::core {

std::string_view to_string(HoldStatus s) noexcept {
    switch (s) {
        case HoldStatus::Pending:
            return "pending";
        case HoldStatus::Captured:
            return "captured";
        case HoldStatus::Voided:
            return "voided";
        case HoldStatus::Expired:
            return "expired";
        case HoldStatus::Reversed:
            return "reversed";
    }
    return "pending";
}

HoldStatus parse_hold_status(std::string_view s) {
    if (s == "pending") return HoldStatus::Pending;
    if (s == "captured") return HoldStatus::Captured;
    if (s == "voided") return HoldStatus::Voided;
    if (s == "expired") return HoldStatus::Expired;
    if (s == "reversed") return HoldStatus::Reversed;
    throw Error(Code::Internal, fmt::format("unknown hold status \"{}\"", s));
}

std::string balance_detail(const Balances &b, std::optional<Money> requested) {
    std::string d = fmt::format("available={}", b.available().to_string());
    if (requested) d += fmt::format(", requested={}", requested->to_string());
    d += fmt::format(", credit_limit={}, posted={}, pending={}", b.credit_limit.to_string(),
                     b.posted.to_string(), b.pending.to_string());
    return d;
}

HoldRefusal hold_refusal(const Balances &b, bool blocked, bool holds_due, Money amount) noexcept {
    if (blocked) return HoldRefusal::Blocked;
    if (holds_due) return HoldRefusal::HoldsDue;
    if (amount > b.available()) return HoldRefusal::Insufficient;
    return HoldRefusal::None;
}

void check_reserve(std::string_view account, const Balances &b, bool blocked, Money amount) {
    HoldRefusal r = hold_refusal(b, blocked, false, amount);
    if (r == HoldRefusal::Blocked) {
        throw Error(Code::AccountBlocked, fmt::format("account \"{}\" is blocked", account),
                    balance_detail(b, amount),
                    "Unblock the account with order_credit.unblock_account() first.");
    }
    if (r == HoldRefusal::Insufficient) {
        throw Error(Code::InsufficientCredit,
                    fmt::format("insufficient credit on account \"{}\"", account),
                    balance_detail(b, amount),
                    "Reduce the amount, wait for holds to be released, or raise the credit "
                    "limit.");
    }
}

HoldStatus effective_status(const Hold &h) noexcept {
    if (h.status == HoldStatus::Pending && h.expired) return HoldStatus::Expired;
    return h.status;
}

void check_reserve_replay(const Hold &existing, std::string_view existing_account,
                          std::string_view account, Money amount, bool same_ttl) {
    if (existing_account == account && existing.amount == amount && same_ttl) return;
    throw Error(Code::IdempotencyMismatch,
                fmt::format("order_ref \"{}\" already has a credit hold with other arguments",
                            existing.order_ref),
                fmt::format("existing: account={}, amount={}; requested: account={}, amount={}{}",
                            existing_account, existing.amount.to_string(), account,
                            amount.to_string(), same_ttl ? "" : " (expires_in differs)"),
                "Use a new order_ref for a different request.");
}

CaptureAction decide_capture(const Hold &h, std::optional<Money> requested) {
    switch (effective_status(h)) {
        case HoldStatus::Pending: {
            Money capture = requested.value_or(h.amount);
            if (capture > h.amount) {
                throw Error(
                    Code::InvalidParameter,
                    fmt::format("capture amount exceeds the hold of order_ref \"{}\"", h.order_ref),
                    fmt::format("hold={}, requested={}", h.amount.to_string(), capture.to_string()),
                    "Capture at most the held amount; reserve more credit first.");
            }
            return CaptureAction{false, capture, h.amount - capture, h.amount};
        }
        case HoldStatus::Captured:
            if (!requested || *requested == h.captured)
                return CaptureAction{true, h.captured, {}, h.amount};
            throw Error(Code::IdempotencyMismatch,
                        fmt::format("hold of order_ref \"{}\" was already captured with another "
                                    "amount",
                                    h.order_ref),
                        fmt::format("captured={}, requested={}", h.captured.to_string(),
                                    requested->to_string()));
        case HoldStatus::Expired:
            throw Error(Code::Expired,
                        fmt::format("credit hold of order_ref \"{}\" has expired", h.order_ref),
                        fmt::format("amount={}", h.amount.to_string()),
                        "Reserve credit again with order_credit.reserve_credit().");
        case HoldStatus::Voided:
        case HoldStatus::Reversed:
            throw Error(
                Code::InvalidState,
                fmt::format("cannot capture the credit hold of order_ref \"{}\"", h.order_ref),
                fmt::format("status={}, amount={}", to_string(h.status), h.amount.to_string()));
    }
    throw Error(Code::Internal, "unreachable hold status");
}

ReleaseAction decide_release(const Hold &h, const Balances &b) {
    switch (h.status) {
        case HoldStatus::Pending:
            return ReleaseAction{h.expired ? ReleaseKind::Expire : ReleaseKind::Void, h.amount};
        case HoldStatus::Captured:
            if (h.captured > b.posted) {
                throw Error(Code::InvalidState,
                            fmt::format("cannot reverse the capture of order_ref \"{}\": the "
                                        "account has been paid down below it",
                                        h.order_ref),
                            fmt::format("captured={}, posted={}", h.captured.to_string(),
                                        b.posted.to_string()),
                            "Refund the payment outside order_credit instead.");
            }
            return ReleaseAction{ReleaseKind::Reverse, h.captured};
        case HoldStatus::Voided:
        case HoldStatus::Expired:
        case HoldStatus::Reversed:
            return ReleaseAction{ReleaseKind::Replay, Money()};
    }
    throw Error(Code::Internal, "unreachable hold status");
}

void check_payment(std::string_view account, const Balances &b, Money amount) {
    if (amount > b.posted) {
        throw Error(
            Code::InvalidParameter,
            fmt::format("payment exceeds the debt of account \"{}\"", account),
            fmt::format("posted={}, requested={}", b.posted.to_string(), amount.to_string()),
            "Record at most the posted (captured and unpaid) amount.");
    }
}

namespace {
Balances checked(Balances b) {
    if (b.posted.is_negative() || b.pending.is_negative())
        throw Error(
            Code::Internal, "order_credit: a transfer would leave a negative balance",
            fmt::format("posted={}, pending={}", b.posted.to_string(), b.pending.to_string()));
    return b;
}
}  // namespace

Balances after_hold(const Balances &b, Money amount) {
    return checked({b.credit_limit, b.posted, b.pending + amount});
}

CaptureBalances after_capture(const Balances &b, const CaptureAction &a) {
    if (a.replay) return {b, b};
    Balances released =
        checked({b.credit_limit, b.posted + a.capture.canonical(), b.pending - a.held.canonical()});
    Balances captured = {b.credit_limit, released.posted,
                         released.pending + a.remainder.canonical()};
    return {captured, released};
}

Balances after_release(const Balances &b, const ReleaseAction &a) {
    switch (a.kind) {
        case ReleaseKind::Replay:
            return b;
        case ReleaseKind::Void:
        case ReleaseKind::Expire:
            return checked({b.credit_limit, b.posted, b.pending - a.amount});
        case ReleaseKind::Reverse:
            return checked({b.credit_limit, b.posted - a.amount, b.pending});
    }
    throw Error(Code::Internal, "unreachable release kind");
}

Balances after_payment(const Balances &b, Money amount) {
    return checked({b.credit_limit, b.posted - amount, b.pending});
}

std::vector<Balances> after_expiry(const Balances &b, const std::vector<Money> &amounts) {
    Money total;
    for (Money m : amounts) total = total + m;
    Balances end = checked({b.credit_limit, b.posted, b.pending - total});
    std::vector<Balances> steps(amounts.size(), end);
    Money to_come;
    for (size_t i = amounts.size(); i-- > 0;) {
        steps[i].pending = end.pending + to_come;
        to_come = to_come + amounts[i];
    }
    return steps;
}

}  // namespace oc::core
