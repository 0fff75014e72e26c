// The writer of credit holds (credit/hold_direct.hpp): place_order's
// credit and order rows (place_credit_order): the account, the hold, its
// ledger entry, the order and its history row, without the executor, on
// the mechanics of access/table_access.hpp.
//
// reserve_credit's rows (place_credit_hold) are the first half of the same
// write: the account, the hold and its ledger entry, what S_reserve of
// credit/holds.cpp writes.
//
// Every PostgreSQL call is made inside pg_call; the row checks (C++) run
// between those steps. A step that fails raises, and the subtransaction of
// place_order's fast path is rolled back with everything written here.
#include <chrono>
#include <optional>
#include <string>
#include <cstring>

#include "core/credit.hpp"
#include "core/error.hpp"
#include "core/money.hpp"
#include "core/row_checks.hpp"
#include "pg/guard.hpp"
#include "pg/row_checks.hpp"
#include "pg/access/table_access.hpp"
#include "pg/credit/hold_direct.hpp"

extern "C" {
#include "access/table.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "commands/sequence.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
}

namespace oc::pg::direct {
namespace {

using namespace detail;

// ------------------------------------------------------------ catalog cache

// As in stock/reserve_direct.cpp: OIDs resolved by name once per backend, forgotten on a
// relcache invalidation of any of them, the shape decision with them.
struct Catalog {
    bool valid;
    Oid user;  // the decisions below are this user's (privileges)
    Oid accounts, accounts_pkey;
    Oid holds, holds_key, hold_seq;
    Oid ledger, ledger_seq;
    Oid orders, orders_pkey;
    Oid history, history_seq;
    Oid reservations, reservations_key;
    int write_ok;  // -1 not decided yet, 0 no, 1 yes
};
Catalog cat{};
Watched watched{};

Oid identity_seq(Oid rel, const char *column) {
    AttrNumber a = get_attnum(rel, column);
    return a == InvalidAttrNumber ? InvalidOid : getIdentitySequence(rel, a, true);
}

// Inside pg_call. False: the extension's relations are not there.
bool resolve() {
    if (cat.valid && cat.user == GetUserId()) return true;
    Catalog c{};
    if (!find_watched(&watched, &cat.valid,
                      {{&c.accounts, "accounts"},
                       {&c.accounts_pkey, "accounts_pkey"},
                       {&c.holds, "holds"},
                       {&c.holds_key, "holds_order_ref_key"},
                       {&c.ledger, "ledger"},
                       {&c.orders, "orders"},
                       {&c.orders_pkey, "orders_pkey"},
                       {&c.history, "order_history"},
                       {&c.reservations, "reservations"},
                       {&c.reservations_key, "reservations_order_ref_sku_key"}}))
        return false;
    c.hold_seq = identity_seq(c.holds, "hold_id");
    c.ledger_seq = identity_seq(c.ledger, "entry_id");
    c.history_seq = identity_seq(c.history, "entry_id");
    if (!OidIsValid(c.hold_seq) || !OidIsValid(c.ledger_seq) || !OidIsValid(c.history_seq))
        return false;
    c.write_ok = -1;
    c.user = GetUserId();
    c.valid = true;
    cat = c;
    return true;
}

// ------------------------------------------------------------ table shapes

// accounts: only the columns read or changed (an update keeps the others).
const Col kAccounts[] = {{"account", TEXTOID},          {"credit_limit", NUMERICOID},
                         {"posted", NUMERICOID},        {"pending", NUMERICOID},
                         {"status", TEXTOID},           {"next_expiry", TIMESTAMPTZOID},
                         {"updated_at", TIMESTAMPTZOID}};
enum { A_ACCOUNT, A_LIMIT, A_POSTED, A_PENDING, A_STATUS, A_NEXT_EXPIRY, A_UPDATED_AT, A_N };

const Col kHolds[] = {{"hold_id", INT8OID},
                      {"order_ref", TEXTOID},
                      {"account", TEXTOID},
                      {"amount", NUMERICOID},
                      {"captured", NUMERICOID, "0"},
                      {"status", TEXTOID, "'pending'::text"},
                      {"expires_in", INTERVALOID},
                      {"expires_at", TIMESTAMPTZOID},
                      {"reason", TEXTOID},
                      {"created_at", TIMESTAMPTZOID, kNow},
                      {"updated_at", TIMESTAMPTZOID, kNow}};
enum {
    H_ID,
    H_ORDER_REF,
    H_ACCOUNT,
    H_AMOUNT,
    H_CAPTURED,
    H_STATUS,
    H_EXPIRES_IN,
    H_EXPIRES_AT,
    H_REASON,
    H_CREATED_AT,
    H_UPDATED_AT,
    H_N
};

const Col kLedger[] = {{"entry_id", INT8OID},
                       {"account", TEXTOID},
                       {"kind", TEXTOID},
                       {"amount", NUMERICOID},
                       {"order_ref", TEXTOID},
                       {"ref", TEXTOID},
                       {"reason", TEXTOID},
                       {"posted_after", NUMERICOID},
                       {"pending_after", NUMERICOID},
                       {"created_at", TIMESTAMPTZOID, kNow},
                       {"created_by", TEXTOID}};
enum {
    L_ID,
    L_ACCOUNT,
    L_KIND,
    L_AMOUNT,
    L_ORDER_REF,
    L_REF,
    L_REASON,
    L_POSTED_AFTER,
    L_PENDING_AFTER,
    L_CREATED_AT,
    L_CREATED_BY,
    L_N
};

const Col kOrders[] = {{"order_ref", TEXTOID},
                       {"account", TEXTOID},
                       {"status", TEXTOID},
                       {"amount", NUMERICOID},
                       {"items", JSONBOID},
                       {"expires_in", INTERVALOID},
                       {"expires_at", TIMESTAMPTZOID},
                       {"payment_ref", TEXTOID},
                       {"created_at", TIMESTAMPTZOID, kNow},
                       {"updated_at", TIMESTAMPTZOID, kNow}};
enum {
    O_ORDER_REF,
    O_ACCOUNT,
    O_STATUS,
    O_AMOUNT,
    O_ITEMS,
    O_EXPIRES_IN,
    O_EXPIRES_AT,
    O_PAYMENT_REF,
    O_CREATED_AT,
    O_UPDATED_AT,
    O_N
};

const Col kHistory[] = {{"entry_id", INT8OID},    {"order_ref", TEXTOID},
                        {"from_status", TEXTOID}, {"to_status", TEXTOID},
                        {"reason", TEXTOID},      {"created_at", TIMESTAMPTZOID, kNow},
                        {"created_by", TEXTOID}};
enum { OH_ID, OH_ORDER_REF, OH_FROM, OH_TO, OH_REASON, OH_CREATED_AT, OH_CREATED_BY, OH_N };

const Col kReservationKey[] = {{"order_ref", TEXTOID}, {"sku", TEXTOID}};

// Attribute numbers, cached with write_ok.
AttrNumber acc_att[A_N], hold_att[H_N], led_att[L_N], ord_att[O_N], hist_att[OH_N], res_key_att[2];

// ------------------------------------------------------------ the write

struct Write {
    Snapshot snap;
    EState *estate;
    TimestampTz now;
    Datum order_ref, items, account, ttl, total, created_by, expires_at;
    bool has_ttl;
    bool hold_only;  // reserve_credit: the account, the hold and its ledger entry
    int64 reservations;

    Relation accounts, accounts_pkey, holds, holds_key, ledger, orders, orders_pkey, history,
        reservations_rel, reservations_key;
    ResultRelInfo *accounts_rri, *holds_rri, *ledger_rri, *orders_rri, *history_rri;
    TupleTableSlot *acct, *acct_new, *hold, *entry, *order, *hist;
    Datum posted_after, pending_after, available_after;
};

// Before open_write has made the slots, the executor state and the
// snapshot, those are null and skipped.
void close_write(Write *w) {
    close_all({w->acct, w->acct_new, w->hold, w->entry, w->order, w->hist},
              {w->accounts_rri, w->holds_rri, w->ledger_rri, w->orders_rri, w->history_rri},
              {w->reservations_key, w->orders_pkey, w->holds_key, w->accounts_pkey},
              {w->reservations_rel, w->history, w->orders, w->ledger, w->holds, w->accounts},
              w->estate, w->snap);
}

bool exists(Relation heap, Relation index, Snapshot snap, Datum value) {
    ScanKeyData k[1];
    key(&k[0], index, 1, BTEqualStrategyNumber, F_TEXTEQ, value);
    TupleTableSlot *s = table_slot_create(heap, nullptr);
    bool found = fetch_first(heap, index, snap, k, 1, s);
    ExecDropSingleTupleTableSlot(s);
    return found;
}

int64 count_reservations(Write *w) {
    ScanKeyData k[1];
    key(&k[0], w->reservations_key, 1, BTEqualStrategyNumber, F_TEXTEQ, w->order_ref);
    TupleTableSlot *s = table_slot_create(w->reservations_rel, nullptr);
    IndexScanDesc scan = index_beginscan(w->reservations_rel, w->reservations_key, w->snap, 1, 0);
    index_rescan(scan, k, 1, nullptr, 0);
    int64 n = 0;
    while (index_getnext_slot(scan, ForwardScanDirection, s)) ++n;
    index_endscan(scan);
    ExecDropSingleTupleTableSlot(s);
    return n;
}

enum class Step { Unusable, NotPlaced, Go };

// Opens everything and checks that the tables may be written here; then,
// place_order's guard: no order and no hold for the order_ref
// yet, exactly the reservations just made, and the account (its version in
// the snapshot, in w->acct). For a hold alone (reserve_credit), S_reserve's
// guard: no hold for the order_ref yet, and the account.
Step open_write(Write *w) {
    if (!may_write_now() || !resolve()) return Step::Unusable;
    Relation accounts = try_table_open(cat.accounts, RowExclusiveLock);
    if (accounts == nullptr) {
        cat.valid = false;
        return Step::Unusable;
    }
    w->accounts = accounts;
    w->accounts_pkey = index_open(cat.accounts_pkey, RowExclusiveLock);
    w->holds = table_open(cat.holds, RowExclusiveLock);
    w->holds_key = index_open(cat.holds_key, RowExclusiveLock);
    w->ledger = table_open(cat.ledger, RowExclusiveLock);
    // A hold alone writes none of the order tables: they are opened only to
    // decide, once, whether the five tables are as created.
    bool all = !w->hold_only || cat.write_ok < 0;
    if (all) {
        w->orders = table_open(cat.orders, RowExclusiveLock);
        w->orders_pkey = index_open(cat.orders_pkey, RowExclusiveLock);
        w->history = table_open(cat.history, RowExclusiveLock);
        w->reservations_rel = table_open(cat.reservations, RowExclusiveLock);
        w->reservations_key = index_open(cat.reservations_key, RowExclusiveLock);
    }
    // An invalidation processed while opening (DDL committed meanwhile):
    // this call takes the SQL path, the next one decides again.
    if (!cat.valid) cat.write_ok = 0;
    if (cat.write_ok < 0) {
        AttrNumber *a = acc_att, *h = hold_att, *o = ord_att;
        cat.write_ok =
            shape(w->accounts, kAccounts, false, a) && shape(w->holds, kHolds, true, h) &&
            shape(w->ledger, kLedger, true, led_att) && shape(w->orders, kOrders, true, o) &&
            shape(w->history, kHistory, true, hist_att) &&
            shape(w->reservations_rel, kReservationKey, false, res_key_att) &&
            allowed(w->accounts, ACL_SELECT | ACL_UPDATE) &&
            allowed(w->holds, ACL_SELECT | ACL_INSERT) &&
            allowed(w->ledger, ACL_SELECT | ACL_INSERT) &&
            allowed(w->orders, ACL_SELECT | ACL_INSERT) &&
            allowed(w->history, ACL_SELECT | ACL_INSERT) &&
            allowed(w->reservations_rel, ACL_SELECT) && defaults_as_created(w->holds, kHolds, h) &&
            defaults_as_created(w->ledger, kLedger, led_att) &&
            defaults_as_created(w->orders, kOrders, o) &&
            defaults_as_created(w->history, kHistory, hist_att) &&
            writable(w->accounts, true, {}) &&
            writable(w->holds, false, {h[H_EXPIRES_IN], h[H_EXPIRES_AT], h[H_REASON]}, true,
                     cat.accounts, h[H_ACCOUNT]) &&
            writable(w->ledger, false, {led_att[L_REF], led_att[L_REASON]}) &&
            writable(w->orders, false, {o[O_EXPIRES_IN], o[O_EXPIRES_AT], o[O_PAYMENT_REF]}, true,
                     cat.accounts, o[O_ACCOUNT]) &&
            writable(w->history, false, {hist_att[OH_FROM]}, false) &&
            index_on(w->accounts_pkey, {a[A_ACCOUNT]}) &&
            index_on(w->holds_key, {h[H_ORDER_REF]}) &&
            index_on(w->orders_pkey, {o[O_ORDER_REF]}) &&
            index_on(w->reservations_key, {res_key_att[0], res_key_att[1]});
    }
    if (cat.write_ok != 1) {
        close_write(w);
        return Step::Unusable;
    }
    WriteStart start = start_write();  // sees the reservations this call just made
    w->snap = start.snap;
    w->estate = start.estate;
    w->now = start.now;
    w->accounts_rri = result_rel(w->accounts, false);
    w->holds_rri = result_rel(w->holds, true);
    w->ledger_rri = result_rel(w->ledger, true);
    w->acct = table_slot_create(w->accounts, nullptr);
    w->acct_new = table_slot_create(w->accounts, nullptr);
    w->hold = table_slot_create(w->holds, nullptr);
    w->entry = table_slot_create(w->ledger, nullptr);
    if (!w->hold_only) {
        w->orders_rri = result_rel(w->orders, true);
        w->history_rri = result_rel(w->history, true);
        w->order = table_slot_create(w->orders, nullptr);
        w->hist = table_slot_create(w->history, nullptr);
    }

    if (exists(w->holds, w->holds_key, w->snap, w->order_ref)) return Step::NotPlaced;
    if (!w->hold_only && (exists(w->orders, w->orders_pkey, w->snap, w->order_ref) ||
                          count_reservations(w) != w->reservations))
        return Step::NotPlaced;
    ScanKeyData k[1];
    key(&k[0], w->accounts_pkey, 1, BTEqualStrategyNumber, F_TEXTEQ, w->account);
    if (!fetch_first(w->accounts, w->accounts_pkey, w->snap, k, 1, w->acct)) return Step::NotPlaced;
    return Step::Go;
}

bool text_is(Datum d, const char *s) {
    text *t = DatumGetTextPP(d);
    size_t n = strlen(s);
    return VARSIZE_ANY_EXHDR(t) == n && memcmp(VARDATA_ANY(t), s, n) == 0;
}

// The account version in w->acct as the core's hold decision reads it (the
// amounts as numeric_out texts, palloc'd). `complete` false: a column the
// decision needs is NULL.
struct AccountView {
    bool complete = false;
    bool active = false;
    bool holds_due = false;
    const char *limit = nullptr;
    const char *posted = nullptr;
    const char *pending = nullptr;
};

AccountView read_account(Write *w) {
    TupleTableSlot *a = w->acct;
    slot_getallattrs(a);
    auto v = [a](int c) { return a->tts_values[acc_att[c] - 1]; };
    auto null = [a](int c) { return a->tts_isnull[acc_att[c] - 1]; };
    AccountView r;
    if (null(A_STATUS) || null(A_LIMIT) || null(A_POSTED) || null(A_PENDING)) return r;
    r.complete = true;
    r.active = text_is(v(A_STATUS), "active");
    r.holds_due = !null(A_NEXT_EXPIRY) && DatumGetTimestampTz(v(A_NEXT_EXPIRY)) <= w->now;
    r.limit = DatumGetCString(DirectFunctionCall1(numeric_out, v(A_LIMIT)));
    r.posted = DatumGetCString(DirectFunctionCall1(numeric_out, v(A_POSTED)));
    r.pending = DatumGetCString(DirectFunctionCall1(numeric_out, v(A_PENDING)));
    return r;
}

// The guard of the account update (reserve_credit's S_reserve re-checks
// the same): core::hold_refusal on the version read; when it accepts, the
// account's balances after the hold (core::after_hold). A refusal of any
// kind leaves the call to the SQL path, which expires due holds or raises
// the error.
std::optional<core::Balances> hold_after(const AccountView &a, const char *total) {
    if (!a.complete) return std::nullopt;
    auto limit = core::Money::parse(a.limit), posted = core::Money::parse(a.posted),
         pending = core::Money::parse(a.pending), amount = core::Money::parse(total);
    if (!limit || !posted || !pending || !amount) return std::nullopt;
    core::Balances b{*limit, *posted, *pending};
    if (core::hold_refusal(b, !a.active, a.holds_due, *amount) != core::HoldRefusal::None)
        return std::nullopt;
    return core::after_hold(b, *amount);
}

Datum numeric_from(const char *text) {
    return DirectFunctionCall3(numeric_in, CStringGetDatum(text), ObjectIdGetDatum(InvalidOid),
                               Int32GetDatum(-1));
}

// The new version of the account in w->acct (which hold_after accepted)
// in w->acct_new: `pending` and `available` are core's balances after the
// hold, as text.
void prepare_account(Write *w, const char *pending, const char *available) {
    TupleTableSlot *a = w->acct;
    slot_getallattrs(a);
    auto v = [a](int c) { return a->tts_values[acc_att[c] - 1]; };
    auto null = [a](int c) { return a->tts_isnull[acc_att[c] - 1]; };

    TupleTableSlot *n = w->acct_new;
    start_version(a, n);
    w->posted_after = v(A_POSTED);
    w->pending_after = numeric_from(pending);
    w->available_after = numeric_from(available);
    n->tts_values[acc_att[A_PENDING] - 1] = w->pending_after;
    if (w->has_ttl && (null(A_NEXT_EXPIRY) || DatumGetTimestampTz(w->expires_at) <
                                                  DatumGetTimestampTz(v(A_NEXT_EXPIRY)))) {
        n->tts_values[acc_att[A_NEXT_EXPIRY] - 1] = w->expires_at;
        n->tts_isnull[acc_att[A_NEXT_EXPIRY] - 1] = false;
    }
    n->tts_values[acc_att[A_UPDATED_AT] - 1] = TimestampTzGetDatum(w->now);
    ExecStoreVirtualTuple(n);
}

// A slot with every column NULL, to be filled with set().
struct RowBuilder {
    TupleTableSlot *s;
    explicit RowBuilder(TupleTableSlot *slot) : s(slot) {
        ExecClearTuple(s);
        int natts = s->tts_tupleDescriptor->natts;
        for (int i = 0; i < natts; ++i) s->tts_isnull[i] = true;
    }
    void set(AttrNumber a, Datum v) {
        s->tts_values[a - 1] = v;
        s->tts_isnull[a - 1] = false;
    }
    void store() { ExecStoreVirtualTuple(s); }
};

void build_rows(Write *w) {
    Datum now = TimestampTzGetDatum(w->now);
    Datum pending = CStringGetTextDatum("pending");
    {
        RowBuilder b(w->hold);
        b.set(hold_att[H_ID], Int64GetDatum(nextval_internal(cat.hold_seq, false)));
        b.set(hold_att[H_ORDER_REF], w->order_ref);
        b.set(hold_att[H_ACCOUNT], w->account);
        b.set(hold_att[H_AMOUNT], w->total);
        b.set(hold_att[H_CAPTURED], NumericGetDatum(int64_to_numeric(0)));
        b.set(hold_att[H_STATUS], pending);
        if (w->has_ttl) {
            b.set(hold_att[H_EXPIRES_IN], w->ttl);
            b.set(hold_att[H_EXPIRES_AT], w->expires_at);
        }
        b.set(hold_att[H_CREATED_AT], now);
        b.set(hold_att[H_UPDATED_AT], now);
        b.store();
    }
    {
        RowBuilder b(w->entry);
        b.set(led_att[L_ID], Int64GetDatum(nextval_internal(cat.ledger_seq, false)));
        b.set(led_att[L_ACCOUNT], w->account);
        b.set(led_att[L_KIND], CStringGetTextDatum("hold"));
        b.set(led_att[L_AMOUNT], w->total);
        b.set(led_att[L_ORDER_REF], w->order_ref);
        b.set(led_att[L_POSTED_AFTER], w->posted_after);
        b.set(led_att[L_PENDING_AFTER], w->pending_after);
        b.set(led_att[L_CREATED_AT], now);
        b.set(led_att[L_CREATED_BY], w->created_by);
        b.store();
    }
    if (w->hold_only) return;
    {
        RowBuilder b(w->order);
        b.set(ord_att[O_ORDER_REF], w->order_ref);
        b.set(ord_att[O_ACCOUNT], w->account);
        b.set(ord_att[O_STATUS], pending);
        b.set(ord_att[O_AMOUNT], w->total);
        b.set(ord_att[O_ITEMS], w->items);
        if (w->has_ttl) {
            b.set(ord_att[O_EXPIRES_IN], w->ttl);
            b.set(ord_att[O_EXPIRES_AT], w->expires_at);
        }
        b.set(ord_att[O_CREATED_AT], now);
        b.set(ord_att[O_UPDATED_AT], now);
        b.store();
    }
    {
        RowBuilder b(w->hist);
        b.set(hist_att[OH_ID], Int64GetDatum(nextval_internal(cat.history_seq, false)));
        b.set(hist_att[OH_ORDER_REF], w->order_ref);
        b.set(hist_att[OH_TO], pending);
        b.set(hist_att[OH_REASON], CStringGetTextDatum("placed"));
        b.set(hist_att[OH_CREATED_AT], now);
        b.set(hist_att[OH_CREATED_BY], w->created_by);
        b.store();
    }
}

void check_rows(Write *w) {
    check_row_values(core::CheckedTable::Holds, RelationGetDescr(w->holds), w->hold->tts_values,
                     w->hold->tts_isnull);
    check_row_values(core::CheckedTable::Ledger, RelationGetDescr(w->ledger), w->entry->tts_values,
                     w->entry->tts_isnull);
    if (!w->hold_only)
        check_row_values(core::CheckedTable::Orders, RelationGetDescr(w->orders),
                         w->order->tts_values, w->order->tts_isnull);
}

// Opens the write and evaluates its guard (Unusable / NotPlaced / Go); the
// hold's expires_at from the write's clock.
Step begin(Write *w) {
    return pg_call([w]() -> Step {
        Step r = open_write(w);
        if (r != Step::Unusable && w->has_ttl)
            w->expires_at =
                DirectFunctionCall2(timestamptz_pl_interval, TimestampTzGetDatum(w->now), w->ttl);
        return r;
    });
}

// The account: the guard on the version read, then its update, waiting for
// a holder as UPDATE does; if a concurrent update committed meanwhile, lock
// the newest version and evaluate the guard on it (READ COMMITTED), after
// which the update cannot fail. False: refused (nothing written; the newest
// version may stay locked, as after UPDATE's EvalPlanQual).
bool update_account(Write *w, double *lock_wait_ms) {
    auto start = std::chrono::steady_clock::now();
    bool updated = false;
    const char *total = pg_call([w]() -> const char * {
        return DatumGetCString(DirectFunctionCall1(numeric_out, w->total));
    });
    for (int round = 0; round < 2 && !updated; ++round) {
        AccountView view = pg_call([w]() -> AccountView { return read_account(w); });
        std::optional<core::Balances> after = hold_after(view, total);
        if (!after) break;
        std::string pending = after->pending.to_numeric_text(),
                    available = after->available().to_numeric_text();
        const char *p = pending.c_str(), *av = available.c_str();
        pg_call([w, p, av] { prepare_account(w, p, av); });
        check_row_values(core::CheckedTable::Accounts, RelationGetDescr(w->accounts),
                         w->acct_new->tts_values, w->acct_new->tts_isnull);
        // Waits for a holder (at most lock_timeout); Changed: a concurrent
        // update committed since the read.
        RowResult u = pg_call([w]() -> RowResult {
            return update_version(w->accounts, w->accounts_rri, w->acct, w->acct_new, w->estate,
                                  w->snap, true, "an account");
        });
        if (u == RowResult::Done) {
            updated = true;
        } else if (round == 0) {
            RowResult l = pg_call([w]() -> RowResult {
                return lock_newest(w->accounts, w->acct, w->snap, "an account");
            });
            if (l != RowResult::Done) break;
        } else {
            throw core::Error(core::Code::Internal, "order_credit: a locked account changed");
        }
    }
    *lock_wait_ms = ms_since(start);
    return updated;
}

// A write of the credit rows for `order_ref` (items 0 and no reservations
// for a hold alone).
Write *new_write(Datum order_ref, Datum items, Datum account, bool has_ttl, Datum ttl, Datum total,
                 Datum created_by, int64 reservations, bool hold_only) {
    return pg_call([=]() -> Write * {
        Write *x = static_cast<Write *>(palloc0(sizeof(Write)));
        x->hold_only = hold_only;
        x->order_ref = detoasted(order_ref);
        x->items = hold_only ? Datum(0) : detoasted(items);
        x->account = detoasted(account);
        x->has_ttl = has_ttl;
        x->ttl = has_ttl ? ttl : Datum(0);
        x->total = detoasted(total);
        x->created_by = detoasted(created_by);
        x->reservations = reservations;
        return x;
    });
}

// The credit half of a write: the guard, the account's update, every row
// built and checked, the hold and its ledger entry inserted. Go: the write
// stays open for the caller (the order rows, the result; close_write);
// otherwise it is closed (NotPlaced: nothing written, see update_account).
Step write_credit(Write *w, double *lock_wait_ms) {
    Step s = begin(w);
    if (s == Step::Unusable) return s;
    if (s == Step::NotPlaced || !update_account(w, lock_wait_ms)) {
        pg_call([w] { close_write(w); });
        return Step::NotPlaced;
    }
    pg_call([w] { build_rows(w); });
    check_rows(w);
    pg_call([w] {
        insert_row(w->holds, w->holds_rri, w->hold, w->estate);
        insert_row(w->ledger, w->ledger_rri, w->entry, w->estate);
    });
    return Step::Go;
}

}  // namespace

OrderPlaced place_credit_order(Datum order_ref, Datum items, Datum account, bool has_ttl, Datum ttl,
                               Datum total, Datum created_by, int64 reservations) {
    OrderPlaced out;
    if (!guc_enabled) return out;
    Write *w =
        new_write(order_ref, items, account, has_ttl, ttl, total, created_by, reservations, false);
    Step s = write_credit(w, &out.lock_wait_ms);
    out.usable = s != Step::Unusable;
    if (s != Step::Go) return out;
    OrderPlaced *o = &out;
    pg_call([w, o] {
        insert_row(w->orders, w->orders_rri, w->order, w->estate);
        insert_row(w->history, w->history_rri, w->hist, w->estate);
        // The order_status row: order_ref, account, status, amount,
        // expires_at, updated_at. Pending, not expired: expires_in is
        // positive, so expires_at lies ahead.
        TupleTableSlot *r = w->order;
        const AttrNumber cols[6] = {ord_att[O_ORDER_REF],  ord_att[O_ACCOUNT],
                                    ord_att[O_STATUS],     ord_att[O_AMOUNT],
                                    ord_att[O_EXPIRES_AT], ord_att[O_UPDATED_AT]};
        for (int i = 0; i < 6; ++i) {
            o->values[i] = r->tts_values[cols[i] - 1];
            o->nulls[i] = r->tts_isnull[cols[i] - 1];
        }
        close_write(w);
    });
    out.placed = true;
    return out;
}

HoldPlaced place_credit_hold(Datum account, Datum amount, Datum order_ref, bool has_ttl, Datum ttl,
                             Datum created_by) {
    HoldPlaced out;
    if (!guc_enabled) return out;
    Write *w = new_write(order_ref, Datum(0), account, has_ttl, ttl, amount, created_by, 0, true);
    Step s = write_credit(w, &out.lock_wait_ms);
    out.usable = s != Step::Unusable;
    if (s != Step::Go) return out;
    HoldPlaced *o = &out;
    pg_call([w, o] {
        // The credit_hold row: hold_id, account, order_ref, amount,
        // captured, status, expires_at, then the account's available credit
        // after the hold.
        TupleTableSlot *h = w->hold;
        const AttrNumber cols[7] = {
            hold_att[H_ID],       hold_att[H_ACCOUNT], hold_att[H_ORDER_REF], hold_att[H_AMOUNT],
            hold_att[H_CAPTURED], hold_att[H_STATUS],  hold_att[H_EXPIRES_AT]};
        for (int i = 0; i < 7; ++i) {
            o->values[i] = h->tts_values[cols[i] - 1];
            o->nulls[i] = h->tts_isnull[cols[i] - 1];
        }
        o->values[7] = w->available_after;
        o->nulls[7] = false;
        close_write(w);
    });
    out.placed = true;
    return out;
}

}  // namespace oc::pg::direct
