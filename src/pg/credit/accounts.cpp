// Credit accounts: create_account, set_credit_limit, block_account,
// unblock_account, credit_status, record_payment (docs/reference.md,
// "Credit lines").
#include <optional>
#include <string>

#include <fmt/format.h>

#include "core/credit.hpp"
#include "core/error.hpp"
#include "core/money.hpp"
#include "pg/common.hpp"
#include "pg/credit/account.hpp"
#include "pg/spi.hpp"

namespace oc::pg::credit {
namespace {

using core::Code;
using core::Error;
using core::Money;

// ---------------------------------------------------------------- statements

Statement S_payment_get(
    "SELECT amount FROM order_credit.payments WHERE account = $1 AND payment_ref = $2",
    {TEXTOID, TEXTOID});

// A payment: the account's new posted $5 (core::after_payment); $6, $7
// posted and pending as locked, re-checked under the row lock.
Statement S_pay(
    "WITH p AS ("
    "    INSERT INTO order_credit.payments (account, payment_ref, amount) VALUES ($1, $3, $2) "
    "    RETURNING account), "
    "a AS ("
    "    UPDATE order_credit.accounts c SET posted = $5, updated_at = statement_timestamp() "
    "      FROM p WHERE c.account = p.account AND c.posted = $6 AND c.pending = $7 "
    "    RETURNING c.account) "
    "INSERT INTO order_credit.ledger (account, kind, amount, ref, posted_after, pending_after, "
    "                                 created_by) "
    "SELECT a.account, 'payment', $2, $3, $5, $7, $4 FROM a",
    {TEXTOID, NUMERICOID, TEXTOID, TEXTOID, NUMERICOID, NUMERICOID, NUMERICOID});

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

// ---------------------------------------------------------------- payments

Datum record_payment(FunctionCallInfo fcinfo) {
    return with_spi(fcinfo, [](const Call &call) {
        Args args(call.fcinfo);
        std::string account = args.key(0, "account");
        Money amount = args.amount(1, "amount");
        std::string payment_ref = args.key(2, "payment_ref");
        Datum account_d = args.datum(0), payment_ref_d = args.datum(2);
        use_call_lock_timeout();
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
            const core::Balances &b = acc->balances;
            core::check_payment(account, b, amount);
            core::Balances after = core::after_payment(b, amount);
            Rows paid = exec(S_pay, {val(account_d), val(money_datum(amount)), val(payment_ref_d),
                                     val(caller_name()), val(balance_datum(after.posted)),
                                     val(balance_datum(b.posted)), val(balance_datum(b.pending))});
            if (paid.count() != 1)
                throw Error(Code::Internal, "order_credit: the payment changed no account");
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
        use_call_lock_timeout();
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
        use_call_lock_timeout();
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
        use_call_lock_timeout();
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
}  // namespace oc::pg::credit

using namespace oc::pg;
using namespace oc::pg::credit;

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
OC_FUNCTION(oc_record_payment) {
    return guard(fcinfo, "record_payment", record_payment);
}
