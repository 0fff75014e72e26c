// Credit lines: SQL-callable functions (docs/reference.md, "Credit lines").
//
// Locking order (the same in every function of the extension, so no two of
// its calls deadlock): handle advisory locks (order_ref, payment_ref) ->
// account row -> hold rows.
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/credit.hpp"
#include "core/error.hpp"
#include "core/money.hpp"
#include "pg/common.hpp"
#include "pg/credit/hold_direct.hpp"
#include "pg/expiry/expire.hpp"
#include "pg/spi.hpp"
#include "pg/subxact.hpp"

namespace oc::pg {
namespace {

using core::Code;
using core::Error;
using core::Money;

// ---------------------------------------------------------------- statements

Statement S_status(
    "SELECT account, currency, credit_limit, posted, pending, available, status, blocked_reason, "
    "updated_at FROM order_credit.account_balances WHERE account = $1",
    {TEXTOID});

Statement S_lock_account(
    "SELECT credit_limit, posted, pending, status = 'blocked', "
    "       coalesce(next_expiry <= statement_timestamp(), false) "
    "  FROM order_credit.accounts WHERE account = $1 FOR NO KEY UPDATE",
    {TEXTOID}, Statement::kLocks);

// The ledger entries of the holds the CTE `due` (order_ref, amount) expired,
// one per hold with the balances right after it, given the account row
// `acc` (posted, pending) after the update; then the count. What expiry
// writes to the ledger, whether a call meets the due holds or the sweep does.
#define OC_EXPIRE_HOLDS_LEDGER                                                                      \
    "led AS ("                                                                                      \
    "    INSERT INTO order_credit.ledger (account, kind, amount, order_ref, reason, posted_after, " \
    "                                     pending_after, created_by) "                              \
    "    SELECT $1, 'expire', d.amount, d.order_ref, 'expired', acc.posted, "                       \
    "           acc.pending + coalesce(sum(d.amount) OVER (ORDER BY d.order_ref ROWS BETWEEN "      \
    "                                  1 FOLLOWING AND UNBOUNDED FOLLOWING), 0), $2 "               \
    "      FROM due d CROSS JOIN acc ORDER BY d.order_ref) "                                        \
    "SELECT count(*) FROM due"

// Marks the account's due holds expired and gives their credit back; one
// ledger entry per hold, each with the balances right after it.
Statement S_expire_account_due(
    "WITH due AS ("
    "    UPDATE order_credit.holds SET status = 'expired', updated_at = statement_timestamp() "
    "     WHERE account = $1 AND status = 'pending' AND expires_at <= statement_timestamp() "
    "    RETURNING order_ref, amount), "
    "acc AS ("
    "    UPDATE order_credit.accounts a "
    "       SET pending = a.pending - (SELECT coalesce(sum(amount), 0) FROM due), "
    "           next_expiry = (SELECT min(h.expires_at) FROM order_credit.holds h "
    "                           WHERE h.account = $1 AND h.status = 'pending' "
    "                             AND h.expires_at > statement_timestamp()), "
    "           updated_at = statement_timestamp() "
    "     WHERE a.account = $1 "
    "    RETURNING a.posted, a.pending), "
    // clang-format off
    OC_EXPIRE_HOLDS_LEDGER,
    // clang-format on
    {TEXTOID, TEXTOID});

// expire_due's credit step.
// Accounts with due holds, earliest expiry first (a bounded index scan).
Statement S_due_accounts(
    "SELECT DISTINCT d.account FROM ("
    "    SELECT account FROM order_credit.holds "
    "     WHERE status = 'pending' AND expires_at <= statement_timestamp() "
    "     ORDER BY expires_at LIMIT $1) d ORDER BY 1",
    {INT8OID}, Statement::kBatch);

Statement S_try_lock_account(
    "SELECT 1 FROM order_credit.accounts WHERE account = $1 FOR NO KEY UPDATE SKIP LOCKED",
    {TEXTOID});

// With the account row locked: expires at most $3 of its due holds, one
// ledger entry per hold with the balances right after it. next_expiry stays
// a lower bound of the pending holds left (due ones skipped included).
Statement S_expire_account_batch(
    "WITH cand AS MATERIALIZED ("
    "    SELECT hold_id FROM order_credit.holds "
    "     WHERE account = $1 AND status = 'pending' AND expires_at <= statement_timestamp() "
    "     ORDER BY expires_at LIMIT $3 FOR UPDATE SKIP LOCKED), "
    "due AS ("
    "    UPDATE order_credit.holds h SET status = 'expired', updated_at = statement_timestamp() "
    "      FROM cand WHERE h.hold_id = cand.hold_id AND h.status = 'pending' "
    "    RETURNING h.hold_id, h.order_ref, h.amount), "
    "acc AS ("
    "    UPDATE order_credit.accounts a "
    "       SET pending = a.pending - (SELECT coalesce(sum(amount), 0) FROM due), "
    "           next_expiry = (SELECT min(h.expires_at) FROM order_credit.holds h "
    "                           WHERE h.account = $1 AND h.status = 'pending' "
    "                             AND h.hold_id NOT IN (SELECT hold_id FROM cand)), "
    "           updated_at = statement_timestamp() "
    "     WHERE a.account = $1 AND EXISTS (SELECT 1 FROM due) "
    "    RETURNING a.posted, a.pending), "
    // clang-format off
    OC_EXPIRE_HOLDS_LEDGER,
    // clang-format on
    {TEXTOID, TEXTOID, INT8OID}, Statement::kBatch);

// The SQL write of a reservation, run after core::check_reserve accepted it
// with the account row locked and its due holds expired. The WHERE only
// re-checks that decision under the lock (active, no hold possibly due,
// enough credit, no hold for this order_ref: the caller holds the order_ref
// lock); a row refused here is a bug, reported as such.
Statement S_reserve(
    "WITH a AS ("
    "    UPDATE order_credit.accounts "
    "       SET pending = pending + $2, "
    "           next_expiry = least(next_expiry, statement_timestamp() + $4), "
    "           updated_at = statement_timestamp() "
    "     WHERE account = $1 AND status = 'active' "
    "       AND (next_expiry IS NULL OR next_expiry > statement_timestamp()) "
    "       AND credit_limit - posted - pending >= $2 "
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
    {TEXTOID, NUMERICOID, TEXTOID, INTERVALOID, TEXTOID}, Statement::kLocks);

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

Statement S_hold_lock(
    "SELECT account, amount, captured, status, "
    "       coalesce(expires_at <= statement_timestamp(), false) "
    "  FROM order_credit.holds WHERE order_ref = $1 FOR UPDATE",
    {TEXTOID}, Statement::kLocks);

Statement S_capture(
    "WITH h AS ("
    "    UPDATE order_credit.holds SET status = 'captured', captured = $2, "
    "           updated_at = statement_timestamp() "
    "     WHERE order_ref = $1 AND status = 'pending' RETURNING account, amount), "
    "a AS ("
    "    UPDATE order_credit.accounts c "
    "       SET pending = c.pending - h.amount, posted = c.posted + $2, "
    "           updated_at = statement_timestamp() "
    "      FROM h WHERE c.account = h.account "
    "    RETURNING c.account, c.posted, c.pending), "
    "l AS ("
    "    INSERT INTO order_credit.ledger (account, kind, amount, order_ref, reason, posted_after, "
    "                                     pending_after, created_by) "
    "    SELECT x.account, x.kind, x.amount, $1, x.reason, x.posted, x.pending, $4 FROM ("
    "        SELECT a.account, 'capture' AS kind, $2 AS amount, NULL::text AS reason, a.posted, "
    "               a.pending + $3 AS pending, 1 AS ord FROM a "
    "        UNION ALL "
    "        SELECT a.account, 'void', $3, 'partial capture: remainder released', a.posted, "
    "               a.pending, 2 FROM a WHERE $3 > 0) x ORDER BY x.ord) "
    "SELECT count(*) FROM h",
    {TEXTOID, NUMERICOID, NUMERICOID, TEXTOID});

// pending -> voided or expired ($4 new status, $5 ledger kind).
Statement S_unhold(
    "WITH h AS ("
    "    UPDATE order_credit.holds SET status = $4, reason = $2, updated_at = statement_timestamp() "
    "     WHERE order_ref = $1 AND status = 'pending' RETURNING account, amount), "
    "a AS ("
    "    UPDATE order_credit.accounts c SET pending = c.pending - h.amount, "
    "           updated_at = statement_timestamp() "
    "      FROM h WHERE c.account = h.account "
    "    RETURNING c.account, c.posted, c.pending, h.amount), "
    "l AS ("
    "    INSERT INTO order_credit.ledger (account, kind, amount, order_ref, reason, posted_after, "
    "                                     pending_after, created_by) "
    "    SELECT a.account, $5, a.amount, $1, $2, a.posted, a.pending, $3 FROM a) "
    "SELECT count(*) FROM h",
    {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID});

Statement S_reverse(
    "WITH h AS ("
    "    UPDATE order_credit.holds SET status = 'reversed', reason = $2, "
    "           updated_at = statement_timestamp() "
    "     WHERE order_ref = $1 AND status = 'captured' RETURNING account, captured), "
    "a AS ("
    "    UPDATE order_credit.accounts c SET posted = c.posted - h.captured, "
    "           updated_at = statement_timestamp() "
    "      FROM h WHERE c.account = h.account "
    "    RETURNING c.account, c.posted, c.pending, h.captured), "
    "l AS ("
    "    INSERT INTO order_credit.ledger (account, kind, amount, order_ref, reason, posted_after, "
    "                                     pending_after, created_by) "
    "    SELECT a.account, 'reverse', a.captured, $1, $2, a.posted, a.pending, $3 FROM a) "
    "SELECT count(*) FROM h",
    {TEXTOID, TEXTOID, TEXTOID});

Statement S_payment_get(
    "SELECT amount FROM order_credit.payments WHERE account = $1 AND payment_ref = $2",
    {TEXTOID, TEXTOID});

Statement S_pay(
    "WITH p AS ("
    "    INSERT INTO order_credit.payments (account, payment_ref, amount) VALUES ($1, $3, $2) "
    "    RETURNING account), "
    "a AS ("
    "    UPDATE order_credit.accounts c SET posted = c.posted - $2, "
    "           updated_at = statement_timestamp() "
    "      FROM p WHERE c.account = p.account RETURNING c.account, c.posted, c.pending) "
    "INSERT INTO order_credit.ledger (account, kind, amount, ref, posted_after, pending_after, "
    "                                 created_by) "
    "SELECT a.account, 'payment', $2, $3, a.posted, a.pending, $4 FROM a",
    {TEXTOID, NUMERICOID, TEXTOID, TEXTOID});

Statement S_create(
    "WITH ins AS ("
    "    INSERT INTO order_credit.accounts (account, currency, credit_limit, initial_limit) "
    "    VALUES ($1, $3, $2, $2) ON CONFLICT (account) DO NOTHING RETURNING account), "
    "l AS ("
    "    INSERT INTO order_credit.ledger (account, kind, amount, reason, posted_after, "
    "                                     pending_after, created_by) "
    "    SELECT account, 'limit', $2, 'account created', 0, 0, $4 FROM ins) "
    "SELECT count(*) FROM ins",
    {TEXTOID, NUMERICOID, TEXTOID, TEXTOID});

Statement S_create_args(
    "SELECT initial_limit = $2 AND currency IS NOT DISTINCT FROM $3, initial_limit, currency "
    "  FROM order_credit.accounts WHERE account = $1",
    {TEXTOID, NUMERICOID, TEXTOID});

Statement S_set_limit(
    "WITH a AS ("
    "    UPDATE order_credit.accounts SET credit_limit = $2, updated_at = statement_timestamp() "
    "     WHERE account = $1 RETURNING account, posted, pending) "
    "INSERT INTO order_credit.ledger (account, kind, amount, posted_after, pending_after, "
    "                                 created_by) "
    "SELECT account, 'limit', $2, posted, pending, $3 FROM a",
    {TEXTOID, NUMERICOID, TEXTOID});

// active <-> blocked ($4 new status, $5 ledger kind).
Statement S_set_status(
    "WITH a AS ("
    "    UPDATE order_credit.accounts "
    "       SET status = $4, blocked_reason = CASE WHEN $4 = 'blocked' THEN $2 END, "
    "           updated_at = statement_timestamp() "
    "     WHERE account = $1 RETURNING account, posted, pending) "
    "INSERT INTO order_credit.ledger (account, kind, reason, posted_after, pending_after, "
    "                                 created_by) "
    "SELECT account, $5, $2, posted, pending, $3 FROM a",
    {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID});

// ------------------------------------------------------------------ helpers

[[noreturn]] void account_not_found(const std::string &account) {
    throw Error(Code::AccountNotFound, fmt::format("credit account \"{}\" does not exist", account),
                fmt::format("account={}", account),
                "Create it with order_credit.create_account().");
}

[[noreturn]] void hold_not_found(const std::string &order_ref) {
    throw Error(
        Code::ReferenceNotFound, fmt::format("no credit hold for order_ref \"{}\"", order_ref),
        fmt::format("order_ref={}", order_ref), "Place one with order_credit.reserve_credit().");
}

void expect_one(const Rows &r, const char *what) {
    if (r.empty() || r.int8(0, 1) != 1)
        throw Error(Code::Internal, fmt::format("order_credit: {} changed no row", what));
}

struct LockedAccount {
    core::Balances balances;
    bool blocked;
    bool due;  // a pending hold may have expired
};

// Locks the account row (FOR NO KEY UPDATE: inserts referencing it proceed).
std::optional<LockedAccount> lock_account(Datum account) {
    Rows r = exec(S_lock_account, {val(account)});
    if (r.empty()) return std::nullopt;
    return LockedAccount{
        {r.money(0, 1), r.money(0, 2), r.money(0, 3)}, r.boolean(0, 4), r.boolean(0, 5)};
}

// Locks the account and, when a hold may be due, expires due holds first, so
// the balances returned are exact.
LockedAccount lock_account_exact(Datum account, const std::string &name, Datum user) {
    auto a = lock_account(account);
    if (!a) account_not_found(name);
    if (a->due) {
        exec(S_expire_account_due, {val(account), val(user)});
        a = lock_account(account);
    }
    return *a;
}

Datum status_result(const Call &call, Datum account, const std::string &name) {
    Rows r = exec(S_status, {val(account)});
    if (r.empty()) account_not_found(name);
    return result_from_row(call, r, 0);
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
    // the executor (pg/stock/reserve_direct.hpp) while the tables are as created; it
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
    Rows placed =
        exec(S_reserve, {val(a.account_d), val(a.amount_d), val(a.order_ref_d), ttl, val(user)});
    if (placed.empty())
        throw Error(Code::Internal, "order_credit: reservation refused after the check passed");
    debug_path("reserve_credit", "SQL");
    return from_rows(placed);
}

Datum reserve_credit(FunctionCallInfo fcinfo) {
    return with_spi(fcinfo, [](const Call &call) {
        ReserveArgs a = reserve_args(Args(call.fcinfo));
        apply_lock_timeout();
        return do_reserve(a).result(call);
    });
}

Datum try_reserve_credit(FunctionCallInfo fcinfo) {
    return with_spi(fcinfo, [](const Call &call) {
        ReserveArgs a = reserve_args(Args(call.fcinfo));
        apply_lock_timeout();
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
        Rows s = exec(S_status, {val(a.account_d)});
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
    return LockedHold{account, account_d, *acc, hold_from(h, order_ref)};
}

Datum capture_credit(FunctionCallInfo fcinfo) {
    return with_spi(fcinfo, [](const Call &call) {
        Args args(call.fcinfo);
        std::string order_ref = args.key(0, "order_ref");
        std::optional<Money> requested = args.opt_amount(1, "amount");
        Datum order_ref_d = args.datum(0);
        apply_lock_timeout();
        LockedHold lh = lock_hold(order_ref_d, order_ref);
        core::CaptureAction act = core::decide_capture(lh.hold, requested);
        if (!act.replay) {
            Rows r = exec(S_capture, {val(order_ref_d), val(money_datum(act.capture)),
                                      val(money_datum(act.remainder)), val(caller_name())});
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
        apply_lock_timeout();
        LockedHold lh = lock_hold(order_ref_d, order_ref);
        core::ReleaseAction act = core::decide_release(lh.hold, lh.acc.balances);
        Datum user = caller_name();
        switch (act.kind) {
            case core::ReleaseKind::Replay:
                break;
            case core::ReleaseKind::Void:
                expect_one(exec(S_unhold, {val(order_ref_d), reason_a, val(user),
                                           val(text_datum("voided")), val(text_datum("void"))}),
                           "void");
                break;
            case core::ReleaseKind::Expire:
                expect_one(exec(S_unhold, {val(order_ref_d), val(text_datum("expired")), val(user),
                                           val(text_datum("expired")), val(text_datum("expire"))}),
                           "expire");
                break;
            case core::ReleaseKind::Reverse:
                expect_one(exec(S_reverse, {val(order_ref_d), reason_a, val(user)}), "reverse");
                break;
        }
        Rows res = exec(S_hold_result, {val(order_ref_d)});
        return result_from_row(call, res, 0);
    });
}

// ---------------------------------------------------------------- payments

Datum record_payment(FunctionCallInfo fcinfo) {
    return with_spi(fcinfo, [](const Call &call) {
        Args args(call.fcinfo);
        std::string account = args.key(0, "account");
        Money amount = args.amount(1, "amount");
        std::string payment_ref = args.key(2, "payment_ref");
        Datum account_d = args.datum(0), payment_ref_d = args.datum(2);
        apply_lock_timeout();
        lock_handle(LockSpace::PaymentRef, account + '\x1f' + payment_ref);
        Rows prior = exec(S_payment_get, {val(account_d), val(payment_ref_d)});
        if (!prior.empty()) {
            Money was = prior.money(0, 1);
            if (was != amount)
                throw Error(
                    Code::IdempotencyMismatch,
                    fmt::format("payment_ref \"{}\" was already recorded with another "
                                "amount",
                                payment_ref),
                    fmt::format("recorded={}, requested={}", was.to_string(), amount.to_string()),
                    "Use a new payment_ref for a different payment.");
        } else {
            auto acc = lock_account(account_d);
            if (!acc) account_not_found(account);
            core::check_payment(account, acc->balances, amount);
            exec(S_pay, {val(account_d), val(money_datum(amount)), val(payment_ref_d),
                         val(caller_name())});
        }
        return status_result(call, account_d, account);
    });
}

// ---------------------------------------------------------------- accounts

Datum create_account(FunctionCallInfo fcinfo) {
    return with_spi(fcinfo, [](const Call &call) {
        Args args(call.fcinfo);
        std::string account = args.key(0, "account");
        Money limit = args.non_negative(1, "credit_limit");
        std::optional<std::string> currency;
        if (!args.is_null(2)) currency = args.key(2, "currency");
        Datum account_d = args.datum(0), limit_d = money_datum(limit);
        Arg currency_a = currency ? val(args.datum(2)) : null_arg();
        apply_lock_timeout();
        Rows ins = exec(S_create, {val(account_d), val(limit_d), currency_a, val(caller_name())});
        if (ins.int8(0, 1) == 0) {
            Rows prior = exec(S_create_args, {val(account_d), val(limit_d), currency_a});
            if (!prior.boolean(0, 1))
                throw Error(
                    Code::IdempotencyMismatch,
                    fmt::format("account \"{}\" already exists with other arguments", account),
                    fmt::format("existing: credit_limit={}, currency={}; requested: "
                                "credit_limit={}, currency={}",
                                prior.text(0, 2), prior.opt_text(0, 3).value_or("NULL"),
                                limit.to_string(), currency.value_or("NULL")),
                    "Use order_credit.set_credit_limit() to change the limit.");
        }
        return status_result(call, account_d, account);
    });
}

Datum set_credit_limit(FunctionCallInfo fcinfo) {
    return with_spi(fcinfo, [](const Call &call) {
        Args args(call.fcinfo);
        std::string account = args.key(0, "account");
        Money limit = args.non_negative(1, "credit_limit");
        Datum account_d = args.datum(0);
        apply_lock_timeout();
        auto acc = lock_account(account_d);
        if (!acc) account_not_found(account);
        if (acc->balances.credit_limit != limit)
            exec(S_set_limit, {val(account_d), val(money_datum(limit)), val(caller_name())});
        return status_result(call, account_d, account);
    });
}

Datum set_blocked(FunctionCallInfo fcinfo, bool block) {
    return with_spi(fcinfo, [block](const Call &call) {
        Args args(call.fcinfo);
        std::string account = args.key(0, "account");
        std::optional<std::string> reason;
        if (block) reason = args.opt_text(1, "reason");
        Datum account_d = args.datum(0);
        apply_lock_timeout();
        auto acc = lock_account(account_d);
        if (!acc) account_not_found(account);
        if (acc->blocked != block) {
            Arg reason_a = reason ? val(args.datum(1)) : null_arg();
            exec(S_set_status, {val(account_d), reason_a, val(caller_name()),
                                val(text_datum(block ? "blocked" : "active")),
                                val(text_datum(block ? "block" : "unblock"))});
        }
        return status_result(call, account_d, account);
    });
}

Datum credit_status(FunctionCallInfo fcinfo) {
    return with_spi(fcinfo, [](const Call &call) {
        Args args(call.fcinfo);
        std::string account = args.key(0, "account");
        return status_result(call, args.datum(0), account);
    });
}

}  // namespace
// expire_due's credit step (expiry/expire.hpp): per account with due holds,
// earliest first, the account locked without waiting and its due holds
// expired, each account in a subtransaction that gives up on a wait
// (unless_busy).
int64_t expire_credit_step(int64_t budget, Datum user) {
    Rows acc = exec(S_due_accounts, {val(Int64GetDatum(budget))});
    std::vector<std::string> accounts;
    for (uint64 i = 0; i < acc.count(); ++i) accounts.push_back(acc.text(i, 1));
    int64_t done = 0;
    for (const std::string &a : accounts) {
        if (done >= budget) break;
        Datum a_d = text_datum(a);
        done += unless_busy([&]() -> int64_t {
            if (exec(S_try_lock_account, {val(a_d)}).empty())
                return 0;  // a buyer has it: next time
            Rows r = exec(S_expire_account_batch,
                          {val(a_d), val(user), val(Int64GetDatum(budget - done))});
            return r.int8(0, 1);
        });
    }
    return done;
}

}  // namespace oc::pg

using namespace oc::pg;

OC_FUNCTION(oc_create_account) {
    return guard(fcinfo, "create_account", create_account);
}
OC_FUNCTION(oc_set_credit_limit) {
    return guard(fcinfo, "set_credit_limit", set_credit_limit);
}
OC_FUNCTION(oc_block_account) {
    return guard(fcinfo, "block_account", [](FunctionCallInfo f) { return set_blocked(f, true); });
}
OC_FUNCTION(oc_unblock_account) {
    return guard(fcinfo, "unblock_account",
                 [](FunctionCallInfo f) { return set_blocked(f, false); });
}
OC_FUNCTION(oc_credit_status) {
    return guard(fcinfo, "credit_status", credit_status);
}
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
OC_FUNCTION(oc_record_payment) {
    return guard(fcinfo, "record_payment", record_payment);
}
