// Unit tests of the credit-line rules (src/core/credit.hpp): reservation
// checks, replays, capture and release decisions, payments.
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "core/credit.hpp"
#include "core/error.hpp"
#include "test_util.hpp"

namespace {

using oc::core::Balances;
using oc::core::Code;
using oc::core::Error;
using oc::core::Hold;
using oc::core::HoldStatus;
using oc::core::Money;
using oc::core::ReleaseKind;
using oc::test::expect_error;
using oc::test::M;

Balances bal(const char *limit, const char *posted, const char *pending) {
    return Balances{M(limit), M(posted), M(pending)};
}

Hold hold(HoldStatus status, const char *amount, const char *captured = "0", bool expired = false) {
    return Hold{"o-1", M(amount), M(captured), status, expired};
}

// ------------------------------------------------------------ statuses

TEST(HoldStatusText, RoundTripsAndRejectsUnknown) {
    for (HoldStatus s : {HoldStatus::Pending, HoldStatus::Captured, HoldStatus::Voided,
                         HoldStatus::Expired, HoldStatus::Reversed}) {
        EXPECT_EQ(oc::core::parse_hold_status(oc::core::to_string(s)), s);
    }
    EXPECT_EQ(oc::core::to_string(HoldStatus::Reversed), "reversed");
    Error e = expect_error([] { oc::core::parse_hold_status("Pending"); });
    EXPECT_EQ(e.code(), Code::Internal);
    EXPECT_EQ(expect_error([] { oc::core::parse_hold_status(""); }).code(), Code::Internal);
}

TEST(Balances, Available) {
    EXPECT_EQ(bal("100000", "25000.5", "10000").available(), M("64999.5"));
    EXPECT_EQ(bal("10", "8", "5").available(), M("-3"));  // limit lowered below use
}

TEST(BalanceDetail, CarriesTheNumbers) {
    Balances b = bal("100", "50", "40");
    EXPECT_EQ(oc::core::balance_detail(b), "available=10, credit_limit=100, posted=50, pending=40");
    EXPECT_EQ(oc::core::balance_detail(b, M("10.0001")),
              "available=10, requested=10.0001, credit_limit=100, posted=50, pending=40");
}

// ------------------------------------------------------------ reserve

TEST(CheckReserve, ExactlyAvailableIsAccepted) {
    EXPECT_NO_THROW(
        oc::core::check_reserve("acme", bal("100000", "0", "90000"), false, M("10000")));
    EXPECT_NO_THROW(oc::core::check_reserve("acme", bal("100", "50", "40"), false, M("10")));
    EXPECT_NO_THROW(oc::core::check_reserve("acme", bal("100", "0", "0"), false, M("0.0001")));
}

TEST(CheckReserve, OneTickOverIsInsufficientCredit) {
    Error e = expect_error(
        [] { oc::core::check_reserve("acme", bal("100", "50", "40"), false, M("10.0001")); });
    EXPECT_EQ(e.code(), Code::InsufficientCredit);
    EXPECT_EQ(e.message(), "insufficient credit on account \"acme\"");
    EXPECT_EQ(e.detail(),
              "available=10, requested=10.0001, credit_limit=100, posted=50, pending=40");
    EXPECT_FALSE(e.hint().empty());
}

TEST(CheckReserve, NegativeAvailableRefusesEverything) {
    Error e = expect_error(
        [] { oc::core::check_reserve("acme", bal("10", "8", "5"), false, M("0.0001")); });
    EXPECT_EQ(e.code(), Code::InsufficientCredit);
    EXPECT_EQ(e.detail(), "available=-3, requested=0.0001, credit_limit=10, posted=8, pending=5");
}

TEST(CheckReserve, BlockedTakesPrecedence) {
    // Enough credit: blocked.
    Error e1 =
        expect_error([] { oc::core::check_reserve("acme", bal("100", "0", "0"), true, M("1")); });
    EXPECT_EQ(e1.code(), Code::AccountBlocked);
    EXPECT_EQ(e1.message(), "account \"acme\" is blocked");
    EXPECT_EQ(e1.detail(), "available=100, requested=1, credit_limit=100, posted=0, pending=0");
    // Not enough credit either: still blocked, not insufficient.
    Error e2 =
        expect_error([] { oc::core::check_reserve("acme", bal("100", "0", "0"), true, M("500")); });
    EXPECT_EQ(e2.code(), Code::AccountBlocked);
}

// ------------------------------------------------------------ effective status

TEST(HoldRefusal, EachReasonAtItsBoundary) {
    using oc::core::hold_refusal;
    using oc::core::HoldRefusal;
    EXPECT_EQ(hold_refusal(bal("100", "50", "40"), false, false, M("10")), HoldRefusal::None);
    EXPECT_EQ(hold_refusal(bal("100", "50", "40"), false, false, M("10.0001")),
              HoldRefusal::Insufficient);
    EXPECT_EQ(hold_refusal(bal("100", "50", "40"), false, true, M("1")), HoldRefusal::HoldsDue);
    EXPECT_EQ(hold_refusal(bal("100", "50", "40"), true, true, M("1")), HoldRefusal::Blocked);
    // Due holds are decided before the amount: their amount may come back.
    EXPECT_EQ(hold_refusal(bal("100", "0", "100"), false, true, M("50")), HoldRefusal::HoldsDue);
}

TEST(EffectiveStatus, OnlyPendingExpires) {
    EXPECT_EQ(oc::core::effective_status(hold(HoldStatus::Pending, "5")), HoldStatus::Pending);
    EXPECT_EQ(oc::core::effective_status(hold(HoldStatus::Pending, "5", "0", true)),
              HoldStatus::Expired);
    for (HoldStatus s :
         {HoldStatus::Captured, HoldStatus::Voided, HoldStatus::Expired, HoldStatus::Reversed}) {
        EXPECT_EQ(oc::core::effective_status(hold(s, "5", "0", true)), s);
        EXPECT_EQ(oc::core::effective_status(hold(s, "5", "0", false)), s);
    }
}

// ------------------------------------------------------------ reserve replay

TEST(ReserveReplay, SameArgumentsReplay) {
    Hold h = hold(HoldStatus::Pending, "10000");
    EXPECT_NO_THROW(oc::core::check_reserve_replay(h, "acme", "acme", M("10000"), true));
    // The replay is recognised whatever became of the hold since.
    EXPECT_NO_THROW(oc::core::check_reserve_replay(hold(HoldStatus::Captured, "10000", "10000"),
                                                   "acme", "acme", M("10000.0000"), true));
    EXPECT_NO_THROW(oc::core::check_reserve_replay(hold(HoldStatus::Pending, "10000", "0", true),
                                                   "acme", "acme", M("10000"), true));
}

TEST(ReserveReplay, EachMismatchIsIdempotencyMismatch) {
    Hold h = hold(HoldStatus::Pending, "10000");
    Error acct =
        expect_error([&] { oc::core::check_reserve_replay(h, "acme", "other", M("10000"), true); });
    EXPECT_EQ(acct.code(), Code::IdempotencyMismatch);
    EXPECT_EQ(acct.message(), "order_ref \"o-1\" already has a credit hold with other arguments");
    EXPECT_EQ(acct.detail(),
              "existing: account=acme, amount=10000; requested: account=other, "
              "amount=10000");

    Error amount = expect_error(
        [&] { oc::core::check_reserve_replay(h, "acme", "acme", M("10000.0001"), true); });
    EXPECT_EQ(amount.code(), Code::IdempotencyMismatch);
    EXPECT_EQ(amount.detail(),
              "existing: account=acme, amount=10000; requested: account=acme, "
              "amount=10000.0001");

    Error ttl =
        expect_error([&] { oc::core::check_reserve_replay(h, "acme", "acme", M("10000"), false); });
    EXPECT_EQ(ttl.code(), Code::IdempotencyMismatch);
    EXPECT_EQ(ttl.detail(),
              "existing: account=acme, amount=10000; requested: account=acme, "
              "amount=10000 (expires_in differs)");
}

// ------------------------------------------------------------ capture

TEST(DecideCapture, FullCapture) {
    auto a = oc::core::decide_capture(hold(HoldStatus::Pending, "100"), std::nullopt);
    EXPECT_FALSE(a.replay);
    EXPECT_EQ(a.capture, M("100"));
    EXPECT_TRUE(a.remainder.is_zero());
    auto b = oc::core::decide_capture(hold(HoldStatus::Pending, "100"), M("100"));
    EXPECT_FALSE(b.replay);
    EXPECT_EQ(b.capture, M("100"));
    EXPECT_TRUE(b.remainder.is_zero());
}

TEST(DecideCapture, PartialCaptureReleasesRemainder) {
    auto a = oc::core::decide_capture(hold(HoldStatus::Pending, "100"), M("30.0001"));
    EXPECT_FALSE(a.replay);
    EXPECT_EQ(a.capture, M("30.0001"));
    EXPECT_EQ(a.remainder, M("69.9999"));
    EXPECT_EQ(a.capture + a.remainder, M("100"));
}

TEST(DecideCapture, OverCaptureIsInvalidParameter) {
    Error e = expect_error(
        [] { oc::core::decide_capture(hold(HoldStatus::Pending, "100"), M("100.0001")); });
    EXPECT_EQ(e.code(), Code::InvalidParameter);
    EXPECT_EQ(e.message(), "capture amount exceeds the hold of order_ref \"o-1\"");
    EXPECT_EQ(e.detail(), "hold=100, requested=100.0001");
}

TEST(DecideCapture, CapturedReplay) {
    Hold h = hold(HoldStatus::Captured, "100", "30");
    auto a = oc::core::decide_capture(h, std::nullopt);
    EXPECT_TRUE(a.replay);
    EXPECT_EQ(a.capture, M("30"));
    auto b = oc::core::decide_capture(h, M("30"));
    EXPECT_TRUE(b.replay);
    EXPECT_EQ(b.capture, M("30"));
    // A captured hold never "expires": replay still works after expires_at.
    EXPECT_TRUE(
        oc::core::decide_capture(hold(HoldStatus::Captured, "100", "100", true), std::nullopt)
            .replay);
}

TEST(DecideCapture, CapturedWithOtherAmountIsMismatch) {
    Hold h = hold(HoldStatus::Captured, "100", "30");
    for (const char *amt : {"100", "29.9999", "30.0001"}) {
        Error e = expect_error([&] { oc::core::decide_capture(h, M(amt)); });
        EXPECT_EQ(e.code(), Code::IdempotencyMismatch) << amt;
        EXPECT_EQ(e.detail(), std::string("captured=30, requested=") + amt);
    }
}

TEST(DecideCapture, ExpiredIsExpired) {
    // Pending past expires_at (the sweeper has not run) and stored as expired.
    for (Hold h : {hold(HoldStatus::Pending, "100", "0", true), hold(HoldStatus::Expired, "100")}) {
        Error e = expect_error([&] { oc::core::decide_capture(h, std::nullopt); });
        EXPECT_EQ(e.code(), Code::Expired);
        EXPECT_EQ(e.message(), "credit hold of order_ref \"o-1\" has expired");
        EXPECT_EQ(e.detail(), "amount=100");
        EXPECT_EQ(expect_error([&] { oc::core::decide_capture(h, M("1")); }).code(), Code::Expired);
    }
}

TEST(DecideCapture, VoidedOrReversedIsInvalidState) {
    Error v = expect_error(
        [] { oc::core::decide_capture(hold(HoldStatus::Voided, "100"), std::nullopt); });
    EXPECT_EQ(v.code(), Code::InvalidState);
    EXPECT_EQ(v.detail(), "status=voided, amount=100");
    Error r = expect_error(
        [] { oc::core::decide_capture(hold(HoldStatus::Reversed, "100", "100"), M("100")); });
    EXPECT_EQ(r.code(), Code::InvalidState);
    EXPECT_EQ(r.detail(), "status=reversed, amount=100");
}

// ------------------------------------------------------------ release

TEST(DecideRelease, PendingIsVoided) {
    auto a = oc::core::decide_release(hold(HoldStatus::Pending, "100"), bal("1000", "0", "100"));
    EXPECT_EQ(a.kind, ReleaseKind::Void);
    EXPECT_EQ(a.amount, M("100"));
}

TEST(DecideRelease, PendingPastExpiryIsExpired) {
    auto a = oc::core::decide_release(hold(HoldStatus::Pending, "100", "0", true),
                                      bal("1000", "0", "100"));
    EXPECT_EQ(a.kind, ReleaseKind::Expire);
    EXPECT_EQ(a.amount, M("100"));
}

TEST(DecideRelease, CapturedIsReversed) {
    // Partial capture: only the captured part is cancelled.
    auto a =
        oc::core::decide_release(hold(HoldStatus::Captured, "100", "30"), bal("1000", "30", "0"));
    EXPECT_EQ(a.kind, ReleaseKind::Reverse);
    EXPECT_EQ(a.amount, M("30"));
    // Exactly the posted amount is fine.
    auto b =
        oc::core::decide_release(hold(HoldStatus::Captured, "100", "100"), bal("1000", "100", "0"));
    EXPECT_EQ(b.kind, ReleaseKind::Reverse);
    EXPECT_EQ(b.amount, M("100"));
}

TEST(DecideRelease, ReverseLargerThanPostedIsInvalidState) {
    Error e = expect_error([] {
        oc::core::decide_release(hold(HoldStatus::Captured, "100", "100"),
                                 bal("1000", "99.9999", "500"));
    });
    EXPECT_EQ(e.code(), Code::InvalidState);
    EXPECT_EQ(e.detail(), "captured=100, posted=99.9999");
}

TEST(DecideRelease, ReleasedHoldsReplay) {
    for (HoldStatus s : {HoldStatus::Voided, HoldStatus::Expired, HoldStatus::Reversed}) {
        auto a = oc::core::decide_release(hold(s, "100", s == HoldStatus::Reversed ? "100" : "0"),
                                          bal("1000", "0", "0"));
        EXPECT_EQ(a.kind, ReleaseKind::Replay) << oc::core::to_string(s);
        EXPECT_TRUE(a.amount.is_zero()) << oc::core::to_string(s);
    }
}

// ------------------------------------------------------------ payments

TEST(CheckPayment, UpToTheDebt) {
    EXPECT_NO_THROW(oc::core::check_payment("acme", bal("100", "50", "0"), M("50")));
    EXPECT_NO_THROW(oc::core::check_payment("acme", bal("100", "50", "0"), M("0.0001")));
    Error e =
        expect_error([] { oc::core::check_payment("acme", bal("100", "50", "20"), M("50.0001")); });
    EXPECT_EQ(e.code(), Code::InvalidParameter);
    EXPECT_EQ(e.message(), "payment exceeds the debt of account \"acme\"");
    EXPECT_EQ(e.detail(), "posted=50, requested=50.0001");
    // Pending holds are not debt.
    EXPECT_EQ(
        expect_error([] { oc::core::check_payment("acme", bal("100", "0", "20"), M("1")); }).code(),
        Code::InvalidParameter);
}

// ------------------------------------------------------------ balance effects

void expect_balances(const Balances &b, const char *posted, const char *pending) {
    EXPECT_EQ(b.posted, M(posted));
    EXPECT_EQ(b.pending, M(pending));
}

TEST(AfterTransfer, HoldAddsToPending) {
    Balances b = oc::core::after_hold(bal("100", "30", "20"), M("0.0001"));
    expect_balances(b, "30", "20.0001");
    EXPECT_EQ(b.credit_limit, M("100"));
    EXPECT_EQ(b.available(), M("49.9999"));
}

TEST(AfterTransfer, CaptureMovesPendingToPostedThenReleasesTheRemainder) {
    auto act = oc::core::decide_capture(hold(HoldStatus::Pending, "100"), M("30"));
    auto c = oc::core::after_capture(bal("1000", "5", "150"), act);
    expect_balances(c.captured, "35", "120");  // the capture entry
    expect_balances(c.released, "35", "50");   // the remainder's void entry: the new state
    auto whole = oc::core::after_capture(
        bal("1000", "5", "150"),
        oc::core::decide_capture(hold(HoldStatus::Pending, "100"), std::nullopt));
    expect_balances(whole.captured, "105", "50");
    expect_balances(whole.released, "105", "50");
    // A replay changes nothing.
    auto replay = oc::core::after_capture(
        bal("1000", "5", "150"),
        oc::core::decide_capture(hold(HoldStatus::Captured, "100", "30"), std::nullopt));
    expect_balances(replay.released, "5", "150");
}

TEST(AfterTransfer, ReleaseByKind) {
    Balances b = bal("1000", "40", "100");
    expect_balances(oc::core::after_release(b, {ReleaseKind::Void, M("60")}), "40", "40");
    expect_balances(oc::core::after_release(b, {ReleaseKind::Expire, M("100")}), "40", "0");
    expect_balances(oc::core::after_release(b, {ReleaseKind::Reverse, M("40")}), "0", "100");
    expect_balances(oc::core::after_release(b, {ReleaseKind::Replay, M("0")}), "40", "100");
}

TEST(AfterTransfer, PaymentReducesPosted) {
    expect_balances(oc::core::after_payment(bal("100", "50", "7"), M("50")), "0", "7");
}

TEST(AfterTransfer, ExpiryOneStepPerHoldInOrder) {
    auto steps = oc::core::after_expiry(bal("100", "10", "60"), {M("25"), M("0.5"), M("34.5")});
    ASSERT_EQ(steps.size(), 3u);
    expect_balances(steps[0], "10", "35");
    expect_balances(steps[1], "10", "34.5");
    expect_balances(steps[2], "10", "0");
    EXPECT_TRUE(oc::core::after_expiry(bal("100", "10", "60"), {}).empty());
}

TEST(AfterTransfer, NegativeBalanceIsInternal) {
    EXPECT_EQ(expect_error([] {
                  oc::core::after_release(bal("100", "10", "5"), {ReleaseKind::Void, M("5.0001")});
              }).code(),
              Code::Internal);
    EXPECT_EQ(expect_error([] { oc::core::after_payment(bal("100", "10", "5"), M("11")); }).code(),
              Code::Internal);
    EXPECT_EQ(expect_error([] {
                  oc::core::after_expiry(bal("100", "0", "5"), {M("3"), M("3")});
              }).code(),
              Code::Internal);
}

}  // namespace
