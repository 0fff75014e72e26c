// Orders (docs/reference.md, "Orders"): an order reserves stock and, with an account,
// credit for its total, all or nothing; confirm turns them into a sale;
// cancel or the payment timeout gives them back.
//
// place_order has one writer and one fallback. The writer, for an order on
// an account with a total above zero, runs in a subtransaction without the
// executor (pg/stock/reserve_direct.hpp): each SKU reserved in canonical order as
// reserve_stock reserves it, then the credit hold and the order. Anything
// else, direct access unusable, and every fast attempt that places nothing
// (short stock or credit, unknown SKU or account, blocked account, a hold
// possibly due, a replay) is rolled back and handed to the fallback, the
// composed path: the public stock and credit functions called through SPI,
// which raise the contract's errors and answer replays. Lock order: order_ref handle -> order row
// -> stock rows (sorted by sku, bucket) -> account -> holds/reservations, as everywhere in the
// extension.
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/money.hpp"
#include "core/orders.hpp"
#include "pg/common.hpp"
#include "pg/notify.hpp"
#include "pg/credit/hold_direct.hpp"
#include "pg/stock/reserve_direct.hpp"
#include "pg/expiry/expire.hpp"
#include "pg/jsonb_field.hpp"
#include "pg/spi.hpp"
#include "pg/stats.hpp"
#include "pg/subxact.hpp"

namespace oc::pg {
namespace {

using core::Code;
using core::Error;
using core::Money;
using core::OrderStatus;

Statement S_items_is_array("SELECT jsonb_typeof($1) = 'array'", {JSONBOID});

Statement S_items(
    "SELECT jsonb_typeof(e), "
    "       coalesce(jsonb_typeof(e->'sku'), ''), e->>'sku', coalesce(char_length(e->>'sku'), 0), "
    "       coalesce(jsonb_typeof(e->'quantity'), ''), e->>'quantity', "
    "       coalesce(jsonb_typeof(e->'unit_price'), ''), e->>'unit_price', "
    "       CASE WHEN jsonb_typeof(e) = 'object' THEN "
    "            (SELECT min(k) FROM jsonb_object_keys(e) k "
    "              WHERE k NOT IN ('sku', 'quantity', 'unit_price')) END "
    "  FROM jsonb_array_elements($1) WITH ORDINALITY AS t(e, n) ORDER BY n",
    {JSONBOID});

Statement S_order_get(
    "SELECT account, status, items = $2, account IS NOT DISTINCT FROM $3, "
    "       expires_in IS NOT DISTINCT FROM $4 "
    "  FROM order_credit.orders WHERE order_ref = $1",
    {TEXTOID, JSONBOID, TEXTOID, INTERVALOID});

Statement S_order_insert(
    "WITH o AS ("
    "    INSERT INTO order_credit.orders (order_ref, account, status, amount, items, expires_in, "
    "                                     expires_at) "
    "    VALUES ($1, $2, 'pending', $3, $4, $5, statement_timestamp() + $5) RETURNING order_ref) "
    "INSERT INTO order_credit.order_history (order_ref, from_status, to_status, reason, created_by) "
    "SELECT order_ref, NULL, 'pending', 'placed', $6 FROM o",
    {TEXTOID, TEXTOID, NUMERICOID, JSONBOID, INTERVALOID, TEXTOID});

Statement S_reserve_stock(
    "SELECT count(*) FROM order_credit.reserve_stock("
    "    (SELECT jsonb_agg(e - 'unit_price' ORDER BY n) "
    "       FROM jsonb_array_elements($1) WITH ORDINALITY AS t(e, n)), $2, $3)",
    {JSONBOID, TEXTOID, INTERVALOID});

Statement S_reserve_credit("SELECT hold_id FROM order_credit.reserve_credit($1, $2, $3, $4)",
                           {TEXTOID, NUMERICOID, TEXTOID, INTERVALOID});

// A free order (total 0) on an account reserves no credit, but the account
// must exist (OC003 from credit_status).
Statement S_account_exists("SELECT 1 FROM order_credit.credit_status($1)", {TEXTOID});

Statement S_order_lock(
    "SELECT account, status, account IS NOT NULL AND amount > 0, "
    "       status = 'pending' AND expires_at <= statement_timestamp(), payment_ref, items "
    "  FROM order_credit.orders WHERE order_ref = $1 FOR NO KEY UPDATE",
    {TEXTOID}, Statement::kLocks);

Statement S_commit_stock("SELECT count(*) FROM order_credit.commit_stock($1)", {TEXTOID});
Statement S_capture_credit("SELECT 1 FROM order_credit.capture_credit($1)", {TEXTOID});
Statement S_release_stock("SELECT count(*) FROM order_credit.release_stock($1, $2)",
                          {TEXTOID, TEXTOID});
Statement S_release_credit("SELECT 1 FROM order_credit.release_credit($1, $2)", {TEXTOID, TEXTOID});

// Paid goods back on the shelf, SKUs in canonical order: byte order
// (COLLATE "C"), as reserve_stock and the fast path sort them, whatever the
// database collation.
Statement S_restock(
    "SELECT count(order_credit.adjust_stock(s.sku, s.quantity, $2)) "
    "  FROM (SELECT e->>'sku' AS sku, (e->>'quantity')::bigint AS quantity "
    "          FROM jsonb_array_elements($1) e ORDER BY e->>'sku' COLLATE \"C\") s",
    {JSONBOID, TEXTOID});

Statement S_set_status(
    "WITH o AS ("
    "    UPDATE order_credit.orders SET status = $2, payment_ref = coalesce($4, payment_ref), "
    "           updated_at = statement_timestamp() "
    "     WHERE order_ref = $1 RETURNING order_ref) "
    "INSERT INTO order_credit.order_history (order_ref, from_status, to_status, reason, created_by) "
    "SELECT order_ref, $3, $2, $5, $6 FROM o",
    {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID});

Statement S_order_result(
    "SELECT order_ref, account, "
    "       CASE WHEN status = 'pending' AND expires_at <= statement_timestamp() "
    "            THEN 'expired' ELSE status END, "
    "       amount, expires_at, updated_at "
    "  FROM order_credit.orders WHERE order_ref = $1",
    {TEXTOID});

[[noreturn]] void order_not_found(const std::string &order_ref) {
    throw Error(Code::ReferenceNotFound, fmt::format("no order \"{}\"", order_ref),
                fmt::format("order_ref={}", order_ref),
                "Place it with order_credit.place_order().");
}

// The items as SQL reads them (jsonb_typeof, ->>, the smallest unknown key in
// the database's collation): used when read_items_direct() finds an element
// it does not describe exactly, so the error names the same path and key.
std::vector<core::OrderItem> read_items_sql(Datum items, Money *total) {
    Rows a = exec(S_items_is_array, {val(items)});
    if (!a.boolean(0, 1))
        throw Error(Code::InvalidParameter, "invalid items: must be a JSON array", "path=items",
                    "items is a JSON array of {\"sku\": text, \"quantity\": integer > 0, "
                    "\"unit_price\": number >= 0}.");
    Rows r = exec(S_items, {val(items)});
    std::vector<core::RawOrderItem> raw;
    for (uint64 i = 0; i < r.count(); ++i) {
        core::RawOrderItem it;
        it.element_type = r.text(i, 1);
        it.sku_type = r.text(i, 2);
        it.sku = r.opt_text(i, 3).value_or("");
        it.sku_chars = static_cast<size_t>(r.int8(i, 4));
        it.quantity_type = r.text(i, 5);
        it.quantity = r.opt_text(i, 6).value_or("");
        it.price_type = r.text(i, 7);
        it.price = r.opt_text(i, 8).value_or("");
        if (auto k = r.opt_text(i, 9)) it.unknown_keys.push_back(*k);
        raw.push_back(std::move(it));
    }
    return core::validate_order_items(raw, total);
}

struct RawOrderElem {
    bool plain;  // an object with no key besides sku, quantity, unit_price
    JsonField sku, quantity, price;
};

const char *kind_name(int kind) {
    switch (kind) {
        case kString:
            return "string";
        case kNumber:
            return "number";
        case kBoolean:
            return "boolean";
        case kNull:
            return "null";
        case kObject:
            return "object";
        case kArray:
            return "array";
        default:
            return "";
    }
}

// jsonb_typeof(e->'f') and e->>'f' as S_items reads them (the text only
// where core looks at it: strings for sku, numbers for quantity/unit_price).
void fill(const JsonField &f, std::string *type, std::string *text) {
    *type = kind_name(f.kind);
    if (f.str != nullptr) text->assign(f.str, static_cast<size_t>(f.len));
}

// Reads the items straight from the jsonb, without SPI. Returns false when
// the document is not an array of objects with only the known keys: the
// caller then reads it with read_items_sql() for the exact error.
bool read_items_direct(Datum d, std::vector<core::RawOrderItem> *out) {
    Jsonb *jb = pg_call([d]() -> Jsonb * { return DatumGetJsonbP(d); });
    JsonbContainer *root = &jb->root;
    if (!JsonContainerIsArray(root) || JsonContainerIsScalar(root)) return false;
    int n = static_cast<int>(JsonContainerSize(root));
    out->reserve(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
        RawOrderElem e = pg_call([root, i]() -> RawOrderElem {
            RawOrderElem e{};
            JsonbValue *v = getIthJsonbValueFromContainer(root, static_cast<uint32>(i));
            if (v == nullptr || v->type != jbvBinary || !JsonContainerIsObject(v->val.binary.data))
                return e;
            JsonbContainer *c = v->val.binary.data;
            e.sku = read_json_field(c, "sku", 3);
            e.quantity = read_json_field(c, "quantity", 8);
            e.price = read_json_field(c, "unit_price", 10);
            int found =
                (e.sku.kind != kAbsent) + (e.quantity.kind != kAbsent) + (e.price.kind != kAbsent);
            e.plain = found == static_cast<int>(JsonContainerSize(c));
            return e;
        });
        if (!e.plain) return false;
        core::RawOrderItem it;
        it.element_type = "object";
        fill(e.sku, &it.sku_type, &it.sku);
        it.sku_chars = e.sku.kind == kString ? static_cast<size_t>(e.sku.chars) : 0;
        fill(e.quantity, &it.quantity_type, &it.quantity);
        fill(e.price, &it.price_type, &it.price);
        out->push_back(std::move(it));
    }
    return true;
}

std::vector<core::OrderItem> read_items(Datum items, Money *total) {
    std::vector<core::RawOrderItem> raw;
    if (!read_items_direct(items, &raw)) return read_items_sql(items, total);
    return core::validate_order_items(raw, total);
}

Datum order_result(const Call &call, Datum order_ref_d) {
    Rows r = exec(S_order_result, {val(order_ref_d)});
    return result_from_row(call, r, 0);
}

struct LockedOrder {
    std::optional<std::string> account;
    OrderStatus status;  // effective: pending past expiry reads expired
    bool has_credit;
    std::optional<std::string> payment_ref;
    Datum items;
};

LockedOrder lock_order(Datum order_ref_d, const std::string &order_ref) {
    lock_handle(LockSpace::OrderRef, order_ref);
    Rows r = exec(S_order_lock, {val(order_ref_d)});
    if (r.empty()) order_not_found(order_ref);
    auto st = core::parse_order_status(r.text(0, 2));
    if (!st) throw Error(Code::Internal, "unknown order status", r.text(0, 2));
    LockedOrder o{r.opt_text(0, 1), *st, r.boolean(0, 3), r.opt_text(0, 5), r.datum(0, 6)};
    if (o.status == OrderStatus::Pending && r.boolean(0, 4)) o.status = OrderStatus::Expired;
    return o;
}

// place_order's fast path for an order with an account and a total above
// zero, without the executor (pg/stock/reserve_direct.hpp): each SKU reserved in
// canonical order as reserve_stock reserves it, then the credit hold and the
// order. The caller holds the order_ref handle lock. Returns the result
// row, or nullopt when it placed nothing (direct access unusable, or any
// refusal): then its subtransaction has been rolled back (no row written,
// no row lock kept) and the composed path runs as if it had never been
// tried.
std::optional<Datum> place_fast(const Call &call, const std::vector<core::OrderItem> &items,
                                Money total, Datum order_ref_d, Datum items_d, Arg account_a,
                                Arg ttl_a) {
    std::vector<const core::OrderItem *> sorted;
    sorted.reserve(items.size());
    for (const auto &it : items) sorted.push_back(&it);
    // Byte order, as stock sorts SKUs.
    std::sort(sorted.begin(), sorted.end(),
              [](const core::OrderItem *a, const core::OrderItem *b) { return a->sku < b->sku; });
    Datum total_d = money_datum(total), user = caller_name();
    auto n = static_cast<int64_t>(items.size());
    direct::OrderPlaced placed_row;
    bool placed = keep_if([&] {
        for (const auto *it : sorted) {
            Datum sku_d = text_datum(it->sku);
            direct::Probe p = direct::probe(order_ref_d, sku_d);
            if (!p.usable || !p.item || p.replay) return false;
            direct::Placed d = direct::reserve(sku_d, order_ref_d, it->quantity, !ttl_a.null,
                                               ttl_a.value, p.buckets, direct::next_spread());
            stats::add_lock_wait_us(static_cast<int64_t>(d.lock_wait_ms * 1000.0));
            if (!d.usable || !d.placed) return false;
        }
        placed_row = direct::place_credit_order(order_ref_d, items_d, account_a.value, !ttl_a.null,
                                                ttl_a.value, total_d, user, n);
        stats::add_lock_wait_us(static_cast<int64_t>(placed_row.lock_wait_ms * 1000.0));
        return placed_row.usable && placed_row.placed;
    });
    if (!placed) return std::nullopt;
    notify::order_change(notify::text_view(order_ref_d), std::nullopt, "pending");
    debug_path("place_order fast path", "direct");
    return result_from_values(call, placed_row.values, placed_row.nulls, 6);
}

Datum place_order(FunctionCallInfo fcinfo) {
    return with_spi(fcinfo, [](const Call &call) {
        Args args(call.fcinfo);
        std::string order_ref = args.key(0, "order_ref");
        if (args.is_null(1)) throw Error(Code::NullValue, "items must not be NULL");
        std::optional<std::string> account;
        if (!args.is_null(2)) account = args.key(2, "account");
        auto ttl = args.opt_expiry_interval(3, "expires_in");
        Datum order_ref_d = args.datum(0), items_d = args.datum(1);
        Arg account_a = account ? val(args.datum(2)) : null_arg();
        Arg ttl_a = ttl ? val(*ttl) : null_arg();
        Money total;
        std::vector<core::OrderItem> items = read_items(items_d, &total);

        use_call_lock_timeout();
        lock_handle(LockSpace::OrderRef, order_ref);
        if (account && total.is_positive()) {
            std::optional<Datum> placed =
                place_fast(call, items, total, order_ref_d, items_d, account_a, ttl_a);
            if (placed) return *placed;
        }
        Rows prior = exec(S_order_get, {val(order_ref_d), val(items_d), account_a, ttl_a});
        if (!prior.empty()) {
            if (!(prior.boolean(0, 3) && prior.boolean(0, 4) && prior.boolean(0, 5)))
                throw Error(
                    Code::IdempotencyMismatch,
                    fmt::format("order \"{}\" was already placed with other arguments", order_ref),
                    fmt::format("same items={}, same account={}, same expires_in={}",
                                prior.boolean(0, 3), prior.boolean(0, 4), prior.boolean(0, 5)),
                    "Use a new order_ref for a different order.");
        } else {
            Datum total_d = money_datum(total);
            // Stock first, then credit: the extension's canonical lock order.
            // The order row comes last, once everything it refers to exists.
            exec(S_reserve_stock, {val(items_d), val(order_ref_d), ttl_a});
            if (account && total.is_positive())
                exec(S_reserve_credit, {account_a, val(total_d), val(order_ref_d), ttl_a});
            else if (account)
                exec(S_account_exists, {account_a});
            exec(S_order_insert, {val(order_ref_d), account_a, val(total_d), val(items_d), ttl_a,
                                  val(caller_name())});
            notify::order_change(order_ref, std::nullopt, "pending");
        }
        return order_result(call, order_ref_d);
    });
}

Datum confirm_order(FunctionCallInfo fcinfo) {
    return with_spi(fcinfo, [](const Call &call) {
        Args args(call.fcinfo);
        std::string order_ref = args.key(0, "order_ref");
        std::optional<std::string> payment_ref;
        if (!args.is_null(1)) payment_ref = args.key(1, "payment_ref");
        Datum order_ref_d = args.datum(0);
        use_call_lock_timeout();
        LockedOrder o = lock_order(order_ref_d, order_ref);
        if (core::decide_confirm(order_ref, o.status)) {
            if (payment_ref && o.payment_ref && *payment_ref != *o.payment_ref)
                throw Error(
                    Code::IdempotencyMismatch,
                    fmt::format("order \"{}\" was already confirmed with another "
                                "payment_ref",
                                order_ref),
                    fmt::format("payment_ref={}, requested={}", *o.payment_ref, *payment_ref));
        } else {
            exec(S_commit_stock, {val(order_ref_d)});
            if (o.has_credit) exec(S_capture_credit, {val(order_ref_d)});
            exec(S_set_status,
                 {val(order_ref_d), val(text_datum("paid")), val(text_datum("pending")),
                  payment_ref ? val(args.datum(1)) : null_arg(), val(text_datum("confirmed")),
                  val(caller_name())});
            notify::order_change(order_ref, "pending", "paid");
        }
        return order_result(call, order_ref_d);
    });
}

Datum set_order_status(FunctionCallInfo fcinfo) {
    return with_spi(fcinfo, [](const Call &call) {
        Args args(call.fcinfo);
        std::string order_ref = args.key(0, "order_ref");
        std::string wanted = args.key(1, "status");
        auto to = core::parse_order_status(wanted);
        if (!to)
            throw Error(Code::InvalidParameter, fmt::format("unknown order status \"{}\"", wanted),
                        {}, "One of processing, shipped, delivered.");
        Datum order_ref_d = args.datum(0);
        use_call_lock_timeout();
        LockedOrder o = lock_order(order_ref_d, order_ref);
        if (!core::check_step(order_ref, o.status, *to)) {
            exec(S_set_status, {val(order_ref_d), val(text_datum(wanted)),
                                val(text_datum(std::string(core::to_string(o.status)))), null_arg(),
                                null_arg(), val(caller_name())});
            notify::order_change(order_ref, core::to_string(o.status), wanted);
        }
        return order_result(call, order_ref_d);
    });
}

Datum cancel_order(FunctionCallInfo fcinfo) {
    return with_spi(fcinfo, [](const Call &call) {
        Args args(call.fcinfo);
        std::string order_ref = args.key(0, "order_ref");
        std::optional<std::string> reason = args.opt_text(1, "reason");
        Datum order_ref_d = args.datum(0);
        Arg reason_a = reason ? val(args.datum(1)) : null_arg();
        use_call_lock_timeout();
        LockedOrder o = lock_order(order_ref_d, order_ref);
        core::CancelKind kind = core::decide_cancel(order_ref, o.status);
        if (kind != core::CancelKind::Replay) {
            std::string why = reason.value_or("cancelled");
            if (kind == core::CancelKind::ReleaseReservations) {
                exec(S_release_stock, {val(order_ref_d), reason_a});
            } else {
                exec(S_restock,
                     {val(o.items), val(text_datum(fmt::format("order {} cancelled", order_ref)))});
            }
            if (o.has_credit) exec(S_release_credit, {val(order_ref_d), reason_a});
            exec(S_set_status, {val(order_ref_d), val(text_datum("cancelled")),
                                val(text_datum(std::string(core::to_string(o.status)))), null_arg(),
                                val(text_datum(why)), val(caller_name())});
            notify::order_change(order_ref, core::to_string(o.status), "cancelled");
        }
        return order_result(call, order_ref_d);
    });
}

Datum order_status(FunctionCallInfo fcinfo) {
    return with_spi(fcinfo, [](const Call &call) {
        Args args(call.fcinfo);
        std::string order_ref = args.key(0, "order_ref");
        Rows r = exec(S_order_result, {val(args.datum(0))});
        if (r.empty()) order_not_found(order_ref);
        return result_from_row(call, r, 0);
    });
}

// expire_due's orders step: up to $1 due pending orders (the partial index
// orders_pending_expiry, SKIP LOCKED) marked expired, each with its history
// row (their holds and reservations expire on their own, with the same
// expires_at); never waits on a locked order. A kept generic plan: the
// sweeper runs this in every chunk, and parsing and planning it per call
// (as an SQL function) cost more than running it when nothing is due.
#define OC_EXPIRE_ORDERS                                                                           \
    "WITH due AS ("                                                                                \
    "    SELECT order_ref FROM order_credit.orders "                                               \
    "     WHERE status = 'pending' AND expires_at <= statement_timestamp() "                       \
    "     ORDER BY expires_at LIMIT $1 "                                                           \
    "       FOR NO KEY UPDATE SKIP LOCKED), "                                                      \
    "upd AS ("                                                                                     \
    "    UPDATE order_credit.orders o SET status = 'expired', updated_at = statement_timestamp() " \
    "      FROM due WHERE o.order_ref = due.order_ref RETURNING o.order_ref), "                    \
    "hist AS ("                                                                                    \
    "    INSERT INTO order_credit.order_history (order_ref, from_status, to_status, reason, "      \
    "                                            created_by) "                                     \
    "    SELECT order_ref, 'pending', 'expired', 'payment timeout', current_user FROM upd) "
Statement S_expire_orders(OC_EXPIRE_ORDERS "SELECT count(*) FROM upd", {INT8OID},
                          Statement::kBatch | Statement::kGeneric);
// The same with order_credit.notify_orders on: one row per expired order.
Statement S_expire_orders_listed(OC_EXPIRE_ORDERS "SELECT order_ref FROM upd", {INT8OID},
                                 Statement::kBatch | Statement::kGeneric);

}  // namespace

int64_t expire_orders_step(int64_t budget, Datum user) {
    (void)user;
    if (!notify::guc_orders) return exec(S_expire_orders, {val(Int64GetDatum(budget))}).int8(0, 1);
    Rows r = exec(S_expire_orders_listed, {val(Int64GetDatum(budget))});
    for (uint64 i = 0; i < r.count(); ++i) notify::order_change(r.text(i, 1), "pending", "expired");
    return static_cast<int64_t>(r.count());
}

}  // namespace oc::pg

using namespace oc::pg;

OC_FUNCTION(oc_place_order) {
    return guard(fcinfo, "place_order", place_order);
}
OC_FUNCTION(oc_confirm_order) {
    return guard(fcinfo, "confirm_order", confirm_order);
}
OC_FUNCTION(oc_set_order_status) {
    return guard(fcinfo, "set_order_status", set_order_status);
}
OC_FUNCTION(oc_cancel_order) {
    return guard(fcinfo, "cancel_order", cancel_order);
}
OC_FUNCTION(oc_order_status) {
    return guard(fcinfo, "order_status", order_status);
}
