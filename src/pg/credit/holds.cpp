// Credit holds: reserve_credit, try_reserve_credit, capture_credit,
// release_credit (docs/reference.md, "Credit lines"). The direct writer of
// a new hold is credit/hold_direct.cpp; the SQL statements here are its
// fallback and the writers of capture and release. Every balance they store
// is computed in core (core/credit.hpp: decide_*, after_*).
//
// Locking order (the same in every function of the extension, so no two of
// its calls deadlock): handle advisory locks (order_ref) -> account row ->
// hold rows.
#include <optional>
#include <string>

#include <fmt/format.h>

#include "core/credit.hpp"
#include "core/error.hpp"
#include "core/money.hpp"
#include "pg/common.hpp"
#include "pg/credit/account.hpp"
#include "pg/credit/hold_direct.hpp"
#include "pg/spi.hpp"
#include "pg/subxact.hpp"

namespace oc::pg::credit {
namespace {

using core::Code;
using core::Error;
using core::Money;

// ---------------------------------------------------------------- statements

// The SQL write of a reservation, run after core::check_reserve accepted it
// with the account row locked and its due holds expired; $6 is pending as
// core::after_hold computed it from $7, the pending read under the lock.
// The WHERE only re-checks that decision under the lock (active, no hold
// possibly due, enough credit, the balance it started from, no hold for
// this order_ref: the caller holds the order_ref lock); a row refused here
// is a bug, reported as such.
Statement S_reserve(
    "WITH a AS ("
    "    UPDATE order_credit.accounts "
    "       SET pending = $6, "
    "           next_expiry = least(next_expiry, statement_timestamp() + $4), "
    "           updated_at = statement_timestamp() "
    "     WHERE account = $1 AND status = 'active' "
    "       AND (next_expiry IS NULL OR next_expiry > statement_timestamp()) "
    "       AND credit_limit - posted - pending >= $2 AND pending = $7 "
    "       AND NOT EXISTS (SELECT FROM order_credit.holds WHERE order_ref = $3) "
    "    RETURNING account, credit_limit, posted, pending), "
    "h AS ("
    "    INSERT INTO order_credit.holds (order_ref, account, amount, expires_in, expires_at) "
    "    SELECT $3, a.account, $2, $4, statement_timestamp() + $4 FROM a "
    "    RETURNING hold_id, account, order_ref, amount, captured, status, expires_at), "
    "l AS ("
    "    INSERT INTO order_credit.ledger (account, kind, amount, order_ref, posted_after, "
    "                                     pending_after, created_by) "
    "    SELECT a.account, 'hold', $2, $3, a.posted, a.pending, $5 FROM a) "
    "SELECT h.hold_id, h.account, h.order_ref, h.amount, h.captured, h.status, h.expires_at, "
    "       a.credit_limit - a.posted - a.pending, a.credit_limit "
    "  FROM h CROSS JOIN a",
    {TEXTOID, NUMERICOID, TEXTOID, INTERVALOID, TEXTOID, NUMERICOID, NUMERICOID},
    Statement::kLocks);

// A hold as callers see it (credit_hold), plus the account's credit_limit.
Statement S_hold_result(
    "SELECT h.hold_id, h.account, h.order_ref, h.amount, h.captured, "
    "       CASE WHEN h.status = 'pending' AND h.expires_at <= statement_timestamp() "
    "            THEN 'expired' ELSE h.status END, "
    "       h.expires_at, b.available, b.credit_limit "
    "  FROM order_credit.holds h JOIN order_credit.account_balances b ON b.account = h.account "
    " WHERE h.order_ref = $1",
    {TEXTOID});

Statement S_hold_get(
    "SELECT account, amount, captured, status, "
    "       coalesce(expires_at <= statement_timestamp(), false), "
    "       expires_in IS NOT DISTINCT FROM $2 "
    "  FROM order_credit.holds WHERE order_ref = $1",
    {TEXTOID, INTERVALOID});

// The hold locked, and where its row is (ctid): the writes below change
// that row by its ctid, which the lock keeps, so no plan can reach it
// through another index (the partial index of pending holds looks empty to
// the planner when few holds are pending, and would then be walked whole).
Statement S_hold_lock(
    "SELECT account, amount, captured, status, "
    "       coalesce(expires_at <= statement_timestamp(), false), ctid "
    "  FROM order_credit.holds WHERE order_ref = $1 FOR UPDATE",
    {TEXTOID}, Statement::kLocks);

// The writes of capture and release. Each stores the balances core computed
// (core::after_capture / after_release) from the account as locked; the
// `posted = ... AND pending = ...` in the account's WHERE only re-checks,
// under the row lock, the balances the computation started from. Each
// returns the number of accounts updated (1).

// pending -> captured (the hold's row $10): $2 captured, $3 remainder
// released; the account's new posted $5 and pending $7, pending $6 after
// the capture entry; $8, $9 posted and pending as locked.
Statement S_capture(
    "WITH h AS ("
    "    UPDATE order_credit.holds SET status = 'captured', captured = $2, "
    "           updated_at = statement_timestamp() "
    "     WHERE ctid = $10 AND status = 'pending' RETURNING account), "
    "a AS ("
    "    UPDATE order_credit.accounts c SET pending = $7, posted = $5, "
    "           updated_at = statement_timestamp() "
    "      FROM h WHERE c.account = h.account AND c.posted = $8 AND c.pending = $9 "
    "    RETURNING c.account), "
    "l AS ("
    "    INSERT INTO order_credit.ledger (account, kind, amount, order_ref, reason, posted_after, "
    "                                     pending_after, created_by) "
    "    SELECT x.account, x.kind, x.amount, $1, x.reason, $5, x.pending, $4 FROM ("
    "        SELECT a.account, 'capture' AS kind, $2 AS amount, NULL::text AS reason, "
    "               $6::numeric AS pending, 1 AS ord FROM a "
    "        UNION ALL "
    "        SELECT a.account, 'void', $3, 'partial capture: remainder released', $7, 2 "
    "          FROM a WHERE $3 > 0) x ORDER BY x.ord) "
    "SELECT count(*) FROM a",
    {TEXTOID, NUMERICOID, NUMERICOID, TEXTOID, NUMERICOID, NUMERICOID, NUMERICOID, NUMERICOID,
     NUMERICOID, TIDOID});

// pending -> voided or expired (the hold's row $9; $4 new status, $5 ledger
// kind): the account's new pending $6; $7, $8 posted and pending as locked.
Statement S_unhold(
    "WITH h AS ("
    "    UPDATE order_credit.holds SET status = $4, reason = $2, updated_at = statement_timestamp() "
    "     WHERE ctid = $9 AND status = 'pending' RETURNING account, amount), "
    "a AS ("
    "    UPDATE order_credit.accounts c SET pending = $6, updated_at = statement_timestamp() "
    "      FROM h WHERE c.account = h.account AND c.posted = $7 AND c.pending = $8 "
    "    RETURNING c.account, h.amount), "
    "l AS ("
    "    INSERT INTO order_credit.ledger (account, kind, amount, order_ref, reason, posted_after, "
    "                                     pending_after, created_by) "
    "    SELECT a.account, $5, a.amount, $1, $2, $7, $6, $3 FROM a) "
    "SELECT count(*) FROM a",
    {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, NUMERICOID, NUMERICOID, NUMERICOID, TIDOID});

// captured -> reversed (the hold's row $7): the account's new posted $4;
// $5, $6 posted and pending as locked.
Statement S_reverse(
    "WITH h AS ("
    "    UPDATE order_credit.holds SET status = 'reversed', reason = $2, "
    "           updated_at = statement_timestamp() "
    "     WHERE ctid = $7 AND status = 'captured' RETURNING account, captured), "
    "a AS ("
    "    UPDATE order_credit.accounts c SET posted = $4, updated_at = statement_timestamp() "
    "      FROM h WHERE c.account = h.account AND c.posted = $5 AND c.pending = $6 "
    "    RETURNING c.account, h.captured), "
    "l AS ("
    "    INSERT INTO order_credit.ledger (account, kind, amount, order_ref, reason, posted_after, "
    "                                     pending_after, created_by) "
    "    SELECT a.account, 'reverse', a.captured, $1, $2, $4, $6, $3 FROM a) "
    "SELECT count(*) FROM a",
    {TEXTOID, TEXTOID, TEXTOID, NUMERICOID, NUMERICOID, NUMERICOID, TIDOID});

// ------------------------------------------------------------------ helpers

[[noreturn]] void hold_not_found(const std::string &order_ref) {
    throw Error(
        Code::ReferenceNotFound, fmt::format("no credit hold for order_ref \"{}\"", order_ref),
        fmt::format("order_ref={}", order_ref), "Place one with order_credit.reserve_credit().");
}

core::Hold hold_from(const Rows &r, const std::string &order_ref) {
    return core::Hold{order_ref, r.money(0, 2), r.money(0, 3),
                      core::parse_hold_status(r.text(0, 4)), r.boolean(0, 5)};
}

// ---------------------------------------------------------------- reserve

struct ReserveArgs {
    std::string account, order_ref;
    Money amount;
    Datum account_d, order_ref_d, amount_d, ttl_d;
    bool has_ttl;
};

ReserveArgs reserve_args(const Args &args) {
    ReserveArgs r;
    r.account = args.key(0, "account");
    r.amount = args.amount(1, "amount");
    r.order_ref = args.key(2, "order_ref");
    auto ttl = args.opt_expiry_interval(3, "expires_in");
    r.account_d = args.datum(0);
    r.amount_d = money_datum(r.amount);
    r.order_ref_d = args.datum(2);
    r.has_ttl = ttl.has_value();
    r.ttl_d = ttl.value_or(Datum(0));
    return r;
}

// A placed (or replayed) hold: the credit_hold row, from the direct write
// (d.placed) or as row 0 of a statement's result.
struct Reserved {
    Rows rows{nullptr, 0};
    direct::HoldPlaced d;

    Datum result(const Call &call) const {
        return d.placed ? result_from_values(call, d.values, d.nulls, 8)
                        : result_from_row(call, rows, 0);
    }
    Datum hold_id() const { return d.placed ? d.values[0] : rows.datum(0, 1); }
};

Reserved from_rows(Rows r) {
    Reserved out;
    out.rows = r;
    return out;
}

// Places the hold (or recognises a replay).
Reserved do_reserve(const ReserveArgs &a) {
    Datum user = caller_name();
    Arg ttl = a.has_ttl ? val(a.ttl_d) : null_arg();
    // Serialise calls on the same order_ref: a second caller waits for the
    // first to commit or roll back, then sees its hold (or none).
    lock_handle(LockSpace::OrderRef, a.order_ref);
    // The writer: the account, the hold and its ledger entry written without
    // the executor (credit/hold_direct.hpp) while the tables are as created; it
    // places only a new hold that core::hold_refusal accepts on the account
    // as read.
    Reserved out;
    out.d =
        direct::place_credit_hold(a.account_d, a.amount_d, a.order_ref_d, a.has_ttl, a.ttl_d, user);
    stats::add_lock_wait_us(static_cast<int64_t>(out.d.lock_wait_ms * 1000.0));
    if (out.d.placed) {
        debug_path("reserve_credit", "direct");
        return out;
    }

    // The fallback, through SQL. A hold for this order_ref: a replay or a
    // mismatch.
    Rows existing = exec(S_hold_get, {val(a.order_ref_d), ttl});
    if (!existing.empty()) {
        core::check_reserve_replay(hold_from(existing, a.order_ref), existing.text(0, 1), a.account,
                                   a.amount, existing.boolean(0, 6));
        return from_rows(exec(S_hold_result, {val(a.order_ref_d)}));
    }
    // No hold: find out why under the row lock, with exact balances.
    LockedAccount acc = lock_account_exact(a.account_d, a.account, user);
    core::check_reserve(a.account, acc.balances, acc.blocked, a.amount);
    core::Balances after = core::after_hold(acc.balances, a.amount);
    Rows placed = exec(
        S_reserve, {val(a.account_d), val(a.amount_d), val(a.order_ref_d), ttl, val(user),
                    val(balance_datum(after.pending)), val(balance_datum(acc.balances.pending))});
    if (placed.empty())
        throw Error(Code::Internal, "order_credit: reservation refused after the check passed");
    debug_path("reserve_credit", "SQL");
    return from_rows(placed);
}

Datum reserve_credit(FunctionCallInfo fcinfo) {
    return with_spi(fcinfo, [](const Call &call) {
        ReserveArgs a = reserve_args(Args(call.fcinfo));
        use_call_lock_timeout();
        return do_reserve(a).result(call);
    });
}

Datum try_reserve_credit(FunctionCallInfo fcinfo) {
    return with_spi(fcinfo, [](const Call &call) {
        ReserveArgs a = reserve_args(Args(call.fcinfo));
        use_call_lock_timeout();
        Datum values[6] = {0};
        bool nulls[6] = {false, true, true, true, true, true};
        Outcome out = attempt([&] {
            values[3] = do_reserve(a).hold_id();  // (int8 by value)
            nulls[3] = false;
        });
        values[0] = BoolGetDatum(out.ok);
        if (!out.ok) {
            stats::note_outcome(out.code);
            values[1] = text_datum(std::string(core::code_name(out.code)));
            values[2] = text_datum(out.message);
            nulls[1] = nulls[2] = false;
        }
        // available and credit_limit as they stand after the attempt.
        Rows s = status_rows(a.account_d);
        if (!s.empty()) {
            values[4] = s.datum(0, 6);
            values[5] = s.datum(0, 3);
            nulls[4] = nulls[5] = false;
        }
        return return_one_row(call, values, nulls, 6);
    });
}

// ---------------------------------------------------------------- capture / release

// Waits for any transaction still working on the order_ref (a hold being
// placed is found once it commits, none if it rolls back), reads the hold's
// account without a row lock, then locks account -> hold in the extension's
// canonical order, and returns the hold as locked.
struct LockedHold {
    std::string account;
    Datum account_d;
    LockedAccount acc;
    core::Hold hold;
    Datum row;  // the hold's ctid, as locked
};

LockedHold lock_hold(Datum order_ref_d, const std::string &order_ref) {
    lock_handle(LockSpace::OrderRef, order_ref);
    Rows peek = exec(S_hold_get, {val(order_ref_d), null_arg()});
    if (peek.empty()) hold_not_found(order_ref);
    std::string account = peek.text(0, 1);
    Datum account_d = text_datum(account);
    auto acc = lock_account(account_d);
    if (!acc) account_not_found(account);
    Rows h = exec(S_hold_lock, {val(order_ref_d)});
    if (h.empty()) hold_not_found(order_ref);
    return LockedHold{account, account_d, *acc, hold_from(h, order_ref), h.datum(0, 6)};
}

Datum capture_credit(FunctionCallInfo fcinfo) {
    return with_spi(fcinfo, [](const Call &call) {
        Args args(call.fcinfo);
        std::string order_ref = args.key(0, "order_ref");
        std::optional<Money> requested = args.opt_amount(1, "amount");
        Datum order_ref_d = args.datum(0);
        use_call_lock_timeout();
        LockedHold lh = lock_hold(order_ref_d, order_ref);
        core::CaptureAction act = core::decide_capture(lh.hold, requested);
        if (!act.replay) {
            const core::Balances &b = lh.acc.balances;
            core::CaptureBalances after = core::after_capture(b, act);
            Rows r = exec(
                S_capture,
                {val(order_ref_d), val(money_datum(act.capture)), val(money_datum(act.remainder)),
                 val(caller_name()), val(balance_datum(after.released.posted)),
                 val(balance_datum(after.captured.pending)),
                 val(balance_datum(after.released.pending)), val(balance_datum(b.posted)),
                 val(balance_datum(b.pending)), val(lh.row)});
            expect_one(r, "capture");
        }
        Rows res = exec(S_hold_result, {val(order_ref_d)});
        return result_from_row(call, res, 0);
    });
}

Datum release_credit(FunctionCallInfo fcinfo) {
    return with_spi(fcinfo, [](const Call &call) {
        Args args(call.fcinfo);
        std::string order_ref = args.key(0, "order_ref");
        std::optional<std::string> reason = args.opt_text(1, "reason");
        Datum order_ref_d = args.datum(0);
        Arg reason_a = reason ? val(args.datum(1)) : null_arg();
        use_call_lock_timeout();
        LockedHold lh = lock_hold(order_ref_d, order_ref);
        const core::Balances &b = lh.acc.balances;
        core::ReleaseAction act = core::decide_release(lh.hold, b);
        core::Balances after = core::after_release(b, act);
        Datum user = caller_name();
        Arg posted = val(balance_datum(b.posted)), pending = val(balance_datum(b.pending));
        switch (act.kind) {
            case core::ReleaseKind::Replay:
                break;
            case core::ReleaseKind::Void:
                expect_one(exec(S_unhold,
                                {val(order_ref_d), reason_a, val(user), val(text_datum("voided")),
                                 val(text_datum("void")), val(balance_datum(after.pending)), posted,
                                 pending, val(lh.row)}),
                           "void");
                break;
            case core::ReleaseKind::Expire:
                expect_one(exec(S_unhold,
                                {val(order_ref_d), val(text_datum("expired")), val(user),
                                 val(text_datum("expired")), val(text_datum("expire")),
                                 val(balance_datum(after.pending)), posted, pending, val(lh.row)}),
                           "expire");
                break;
            case core::ReleaseKind::Reverse:
                expect_one(exec(S_reverse,
                                {val(order_ref_d), reason_a, val(user),
                                 val(balance_datum(after.posted)), posted, pending, val(lh.row)}),
                           "reverse");
                break;
        }
        Rows res = exec(S_hold_result, {val(order_ref_d)});
        return result_from_row(call, res, 0);
    });
}

}  // namespace
}  // namespace oc::pg::credit

using namespace oc::pg;
using namespace oc::pg::credit;

OC_FUNCTION(oc_reserve_credit) {
    return guard(fcinfo, "reserve_credit", reserve_credit);
}
OC_FUNCTION(oc_try_reserve_credit) {
    return guard(fcinfo, "try_reserve_credit", try_reserve_credit);
}
OC_FUNCTION(oc_capture_credit) {
    return guard(fcinfo, "capture_credit", capture_credit);
}
OC_FUNCTION(oc_release_credit) {
    return guard(fcinfo, "release_credit", release_credit);
}
