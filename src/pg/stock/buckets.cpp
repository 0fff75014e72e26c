// Bucket locks and levels, result rows and errors shared by the stock files
// (stock/buckets.hpp).
#include <fmt/format.h>

#include "core/error.hpp"
#include "pg/stock/buckets.hpp"
#include "pg/notify.hpp"

namespace oc::pg::buckets {
namespace {

using core::Code;
using core::Error;

Statement S_status(
    "SELECT sku, on_hand, reserved, available, buckets, updated_at "
    "  FROM order_credit.stock_levels WHERE sku = $1",
    {TEXTOID});

Statement S_item_buckets("SELECT buckets FROM order_credit.items WHERE sku = $1", {TEXTOID});

Statement S_lock_buckets(
    "SELECT bucket, on_hand, reserved FROM order_credit.stock_buckets "
    " WHERE sku = $1 ORDER BY bucket FOR NO KEY UPDATE",
    {TEXTOID});

// With every bucket of the SKU locked: deletes the claims of its due
// reservations and gives their units back to the buckets they came from (the
// reservation rows stay as they are: past expiry, they read as expired).
#define OC_EXPIRE_SKU_DUE(returning) \
    "WITH exp AS (" \
    "    DELETE FROM order_credit.reservation_claims " \
    "     WHERE sku = $1 AND expires_at <= statement_timestamp() " \
    "    RETURNING " OC_CLAIM_PARTS("") "), " \
    "parts AS (SELECT p.b, sum(p.q) AS q FROM exp, unnest(exp.part_buckets, exp.part_qty) AS p(b, q) " \
    "           GROUP BY p.b), " \
    "upd AS (" \
    "    UPDATE order_credit.stock_buckets s SET reserved = s.reserved - parts.q, " \
    "           updated_at = statement_timestamp() " \
    "      FROM parts WHERE s.sku = $1 AND s.bucket = parts.b " \
    "    RETURNING " returning ") " \
    "SELECT count(*) FROM exp"
Statement S_expire_sku_due(OC_EXPIRE_SKU_DUE(OC_BUCKET_CROSSED("parts.q")), {TEXTOID});
// The same for a database still on 1.0 (no alert columns; notify.hpp).
Statement S_expire_sku_due_v1_0(OC_EXPIRE_SKU_DUE("1"), {TEXTOID});

// Reservations as callers see them (stock_reservation), sku order.
#define OC_RES_RESULT                                                                       \
    "SELECT r.reservation_id, r.sku, r.order_ref, r.quantity, "                             \
    "       CASE WHEN r.status = 'active' AND r.expires_at <= statement_timestamp() "       \
    "            THEN 'expired' ELSE r.status END, "                                        \
    "       r.expires_at, l.available "                                                     \
    "  FROM order_credit.reservations r JOIN order_credit.stock_levels l ON l.sku = r.sku " \
    " WHERE r.order_ref = $1 "
Statement S_res_result_one(OC_RES_RESULT "AND r.sku = $2", {TEXTOID, TEXTOID});
Statement S_res_result_order(OC_RES_RESULT "ORDER BY r.sku", {TEXTOID});

}  // namespace

[[noreturn]] void item_not_found(const std::string &sku) {
    throw Error(Code::ItemNotFound, fmt::format("item \"{}\" does not exist", sku),
                fmt::format("sku={}", sku), "Create it with order_credit.set_stock().");
}

[[noreturn]] void reservation_not_found(const std::string &order_ref) {
    throw Error(Code::ReferenceNotFound,
                fmt::format("no stock reservation for order_ref \"{}\"", order_ref),
                fmt::format("order_ref={}", order_ref),
                "Place one with order_credit.reserve_stock().");
}

int64_t arg_int8(const Args &args, int i, const char *what) {
    if (args.is_null(i)) throw Error(Code::NullValue, fmt::format("{} must not be NULL", what));
    return DatumGetInt64(args.datum(i));
}

int32 arg_int4(const Args &args, int i, const char *what) {
    if (args.is_null(i)) throw Error(Code::NullValue, fmt::format("{} must not be NULL", what));
    return DatumGetInt32(args.datum(i));
}

namespace {
std::vector<core::BucketLevel> levels_from(const Rows &r) {
    std::vector<core::BucketLevel> out;
    for (uint64 i = 0; i < r.count(); ++i)
        out.push_back(
            core::BucketLevel{static_cast<int>(r.int8(i, 1)), r.int8(i, 2), r.int8(i, 3)});
    return out;
}
}  // namespace

// Locks every bucket of the SKU in bucket order (waiting), with `expire`
// expires its due reservations, and returns the levels (exact with
// `expire`). A re-stripe that committed
// while we waited shows as a bucket count that differs from the item's:
// lock again (the new rows have higher numbers or are free).
std::vector<core::BucketLevel> lock_all_buckets(Datum sku_d, const std::string &sku, bool expire) {
    Rows b(nullptr, 0);
    for (int round = 0;; ++round) {
        b = lock_buckets(sku_d);
        Rows n = exec(S_item_buckets, {val(sku_d)});
        if (n.empty()) item_not_found(sku);
        if (static_cast<int64_t>(b.count()) == n.int8(0, 1) || round >= 3) break;
    }
    return expire ? expire_sku_due(sku_d) : levels_from(b);
}

Rows lock_buckets(Datum sku) {
    return exec(S_lock_buckets, {val(sku)});
}

std::vector<core::BucketLevel> expire_sku_due(Datum sku) {
    (void)exec(notify::alerts_schema() ? S_expire_sku_due : S_expire_sku_due_v1_0, {val(sku)});
    return levels_from(lock_buckets(sku));
}

Rows status_row(Datum sku) {
    return exec(S_status, {val(sku)});
}

Rows reservation_result(Datum order_ref, Datum sku) {
    return exec(S_res_result_one, {val(order_ref), val(sku)});
}

Rows order_reservations_result(Datum order_ref) {
    return exec(S_res_result_order, {val(order_ref)});
}

}  // namespace oc::pg::buckets
