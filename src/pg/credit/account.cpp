// Credit accounts as the write paths meet them (credit/account.hpp) and the
// one writer of hold expiry.
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
#include "pg/common.hpp"
#include "pg/credit/account.hpp"
#include "pg/expiry/expire.hpp"
#include "pg/spi.hpp"
#include "pg/subxact.hpp"

namespace oc::pg::credit {
namespace {

using core::Code;
using core::Error;
using core::Money;

Statement S_status(
    "SELECT account, currency, credit_limit, posted, pending, available, status, blocked_reason, "
    "updated_at FROM order_credit.account_balances WHERE account = $1",
    {TEXTOID});

Statement S_lock_account(
    "SELECT credit_limit, posted, pending, status = 'blocked', "
    "       coalesce(next_expiry <= statement_timestamp(), false) "
    "  FROM order_credit.accounts WHERE account = $1 FOR NO KEY UPDATE",
    {TEXTOID}, Statement::kLocks);

// ------------------------------------------------------------ expiry

// The account's due holds marked expired, in the ledger's order: every one
// (a call that meets them, with the account locked: it waits for a hold row
// as UPDATE does) ...
Statement S_expire_all_due(
    "WITH due AS ("
    "    UPDATE order_credit.holds SET status = 'expired', updated_at = statement_timestamp() "
    "     WHERE account = $1 AND status = 'pending' AND expires_at <= statement_timestamp() "
    "    RETURNING order_ref, amount) "
    "SELECT order_ref, amount FROM due ORDER BY order_ref",
    {TEXTOID}, Statement::kLocks);

// ... or at most $2, earliest first, skipping hold rows another transaction
// has locked (the sweep, which never waits). The UPDATE reaches the locked
// holds by hold_id alone: the lock was taken on a version that matched
// status = 'pending' (a newer version is re-checked), and holding it keeps
// the status. Stating status = 'pending' there too would let the planner
// walk a partial index of pending holds (holds_account_pending, all of
// them) with a join filter instead of probing the primary key, which it
// does whenever ANALYZE saw few pending holds.
Statement S_expire_some_due(
    "WITH cand AS MATERIALIZED ("
    "    SELECT hold_id FROM order_credit.holds "
    "     WHERE account = $1 AND status = 'pending' AND expires_at <= statement_timestamp() "
    "     ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED), "
    "due AS ("
    "    UPDATE order_credit.holds h SET status = 'expired', updated_at = statement_timestamp() "
    "      FROM cand WHERE h.hold_id = cand.hold_id "
    "    RETURNING h.order_ref, h.amount) "
    "SELECT order_ref, amount FROM due ORDER BY order_ref",
    {TEXTOID, INT8OID}, Statement::kBatch);

// The account after the expiry: pending as core::after_expiry computed it
// and next_expiry the earliest pending hold left (a lower bound: due holds
// the sweep skipped stay in it). `pending = $3` only re-checks, under the
// row lock, the balance the computation started from.
#define OC_EXPIRE_ACCOUNT                                                       \
    "UPDATE order_credit.accounts "                                             \
    "   SET pending = $2, "                                                     \
    "       next_expiry = (SELECT min(h.expires_at) FROM order_credit.holds h " \
    "                       WHERE h.account = $1 AND h.status = 'pending'), "   \
    "       updated_at = statement_timestamp() "                                \
    " WHERE account = $1 AND pending = $3"

// One ledger entry per expired hold, with the balances right after it.
#define OC_EXPIRE_LEDGER                                                              \
    "INSERT INTO order_credit.ledger (account, kind, amount, order_ref, reason, "     \
    "                                 posted_after, pending_after, created_by) "      \
    "SELECT $1, 'expire', u.amount, u.order_ref, 'expired', $2, u.pending_after, $3 " \
    "  FROM unnest($4::text[], $5::numeric[], $6::numeric[]) "                        \
    "       WITH ORDINALITY AS u(order_ref, amount, pending_after, n) "               \
    " ORDER BY u.n"

// Inside a call, keyed statements; in the sweep, planned with the caller's
// settings as its other batches.
Statement S_expire_account(OC_EXPIRE_ACCOUNT, {TEXTOID, NUMERICOID, NUMERICOID});
Statement S_expire_account_sweep(OC_EXPIRE_ACCOUNT, {TEXTOID, NUMERICOID, NUMERICOID},
                                 Statement::kBatch);
Statement S_expire_ledger(OC_EXPIRE_LEDGER, {TEXTOID, NUMERICOID, TEXTOID, TEXTARRAYOID,
                                             NUMERICARRAYOID, NUMERICARRAYOID});
Statement S_expire_ledger_sweep(OC_EXPIRE_LEDGER,
                                {TEXTOID, NUMERICOID, TEXTOID, TEXTARRAYOID, NUMERICARRAYOID,
                                 NUMERICARRAYOID},
                                Statement::kBatch);

// Accounts with due holds, earliest expiry first (a bounded index scan of
// holds_pending_expiry, which only a query naming its predicate can use).
Statement S_due_accounts(
    "SELECT DISTINCT d.account FROM ("
    "    SELECT account FROM order_credit.holds "
    "     WHERE status = 'pending' AND expires_at < 'infinity' "
    "       AND expires_at <= statement_timestamp() "
    "     ORDER BY expires_at LIMIT $1) d ORDER BY 1",
    {INT8OID}, Statement::kBatch);

Statement S_try_lock_account(
    "SELECT credit_limit, posted, pending "
    "  FROM order_credit.accounts WHERE account = $1 FOR NO KEY UPDATE SKIP LOCKED",
    {TEXTOID});

// The expiry writer: with the account row locked and `b` its balances,
// marks its due holds expired (all of them, or at most `limit` without
// waiting), gives their credit back (core::after_expiry) and writes one
// ledger entry per hold. With `always`, the account's next_expiry is
// brought up to date even when no hold was due (a call that met a stale
// one). Returns the number of holds expired.
int64_t expire_holds(Datum account, const core::Balances &b, Datum user,
                     std::optional<int64_t> limit, bool always) {
    Rows due = limit ? exec(S_expire_some_due, {val(account), val(Int64GetDatum(*limit))})
                     : exec(S_expire_all_due, {val(account)});
    if (due.empty() && !always) return 0;
    std::vector<Money> amounts;
    std::vector<Datum> refs, amount_d, pending_d;
    for (uint64 i = 0; i < due.count(); ++i) {
        amounts.push_back(due.money(i, 2));
        refs.push_back(due.datum(i, 1));
        amount_d.push_back(due.datum(i, 2));
    }
    std::vector<core::Balances> steps = core::after_expiry(b, amounts);
    for (const core::Balances &s : steps) pending_d.push_back(balance_datum(s.pending));
    Money pending = steps.empty() ? b.pending : steps.back().pending;
    Rows updated = exec(limit ? S_expire_account_sweep : S_expire_account,
                        {val(account), val(balance_datum(pending)), val(balance_datum(b.pending))});
    if (updated.count() != 1)
        throw Error(Code::Internal,
                    "order_credit: the expiry of an account's holds changed no row");
    if (!steps.empty())
        exec(
            limit ? S_expire_ledger_sweep : S_expire_ledger,
            {val(account), val(balance_datum(b.posted)), val(user), val(datum_array(refs, TEXTOID)),
             val(datum_array(amount_d, NUMERICOID)), val(datum_array(pending_d, NUMERICOID))});
    return static_cast<int64_t>(steps.size());
}

}  // namespace

[[noreturn]] void account_not_found(const std::string &account) {
    throw Error(Code::AccountNotFound, fmt::format("credit account \"{}\" does not exist", account),
                fmt::format("account={}", account),
                "Create it with order_credit.create_account().");
}

void expect_one(const Rows &r, const char *what) {
    if (r.empty() || r.int8(0, 1) != 1)
        throw Error(Code::Internal, fmt::format("order_credit: {} changed no row", what));
}

std::optional<LockedAccount> lock_account(Datum account) {
    Rows r = exec(S_lock_account, {val(account)});
    if (r.empty()) return std::nullopt;
    return LockedAccount{
        {r.money(0, 1), r.money(0, 2), r.money(0, 3)}, r.boolean(0, 4), r.boolean(0, 5)};
}

LockedAccount lock_account_exact(Datum account, const std::string &name, Datum user) {
    auto a = lock_account(account);
    if (!a) account_not_found(name);
    if (a->due) {
        expire_holds(account, a->balances, user, std::nullopt, /*always=*/true);
        a = lock_account(account);
    }
    return *a;
}

Rows status_rows(Datum account) {
    return exec(S_status, {val(account)});
}

Datum status_result(const Call &call, Datum account, const std::string &name) {
    Rows r = status_rows(account);
    if (r.empty()) account_not_found(name);
    return result_from_row(call, r, 0);
}

}  // namespace oc::pg::credit

namespace oc::pg {

// expire_due's credit step (expiry/expire.hpp): per account with due holds,
// earliest first, the account locked without waiting and at most the
// budget's rest of its due holds expired, each account in a subtransaction
// that gives up on a wait (unless_busy).
int64_t expire_credit_step(int64_t budget, Datum user) {
    Rows acc = exec(credit::S_due_accounts, {val(Int64GetDatum(budget))});
    std::vector<std::string> accounts;
    for (uint64 i = 0; i < acc.count(); ++i) accounts.push_back(acc.text(i, 1));
    int64_t done = 0;
    for (const std::string &a : accounts) {
        if (done >= budget) break;
        Datum a_d = text_datum(a);
        done += unless_busy([&]() -> int64_t {
            Rows locked = exec(credit::S_try_lock_account, {val(a_d)});
            if (locked.empty()) return 0;  // a buyer has it: next time
            core::Balances b{locked.money(0, 1), locked.money(0, 2), locked.money(0, 3)};
            return credit::expire_holds(a_d, b, user, budget - done, /*always=*/false);
        });
    }
    return done;
}

}  // namespace oc::pg
