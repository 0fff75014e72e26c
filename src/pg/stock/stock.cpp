// Stock: SQL-callable functions (docs/reference.md, "Stock"), and the stock
// step of expire_due.
//
// Locking order (the extension's canonical order): the order_ref handle lock
// -> item row (set_stock / adjust_stock only) -> stock bucket rows sorted by
// (sku, bucket) -> reservation rows. A reservation of a one-bucket item
// updates bucket 0; on a striped item it takes a bucket no one holds or
// waits for ONE bucket (both pg/stock/reserve_direct.cpp); only when no single bucket has
// enough, or the direct path is unusable, does it lock every bucket of the
// SKU in bucket order, waiting at most order_credit.lock_timeout
// (reserve_one states the rule that keeps this deadlock-free). Multi-item
// requests handle SKUs in sorted order.
//
// A reservation's units are counted in stock_buckets.reserved exactly while
// it has a row in reservation_claims: reserve inserts the claim with the
// reservation; commit, release and expiry delete it while holding the
// buckets of its parts. Expiry (expire_due, the slow path, set_stock) only
// deletes the claim: the reservation row keeps status 'active' and reads as
// expired once past expires_at.
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/stock.hpp"
#include "core/alerts.hpp"
#include "pg/common.hpp"
#include "pg/notify.hpp"
#include "pg/stock/expire_direct.hpp"
#include "pg/expiry/expire.hpp"
#include "pg/spi.hpp"
#include "pg/subxact.hpp"
#include "pg/stock/buckets.hpp"

namespace oc::pg {
namespace {

using core::Code;
using core::Error;
using namespace buckets;

// ---------------------------------------------------------------- statements

Statement S_item_create(
    "INSERT INTO order_credit.items (sku, buckets) VALUES ($1, $2) "
    "ON CONFLICT (sku) DO NOTHING RETURNING 1",
    {TEXTOID, INT4OID});

Statement S_item_lock(
    "SELECT buckets, alert_threshold FROM order_credit.items WHERE sku = $1 FOR NO KEY UPDATE",
    {TEXTOID});
// The same for a database still on 1.0 (no alert columns; notify.hpp).
Statement S_item_lock_v1_0(
    "SELECT buckets, NULL::bigint FROM order_credit.items WHERE sku = $1 FOR NO KEY UPDATE",
    {TEXTOID});

// set_stock_alert: the item's threshold and each bucket's share of it
// ($3: the shares by bucket number; NULL $2: none).
Statement S_set_alert(
    "WITH i AS ("
    "    UPDATE order_credit.items SET alert_threshold = $2, updated_at = statement_timestamp() "
    "     WHERE sku = $1 RETURNING sku) "
    "UPDATE order_credit.stock_buckets s SET alert_below = CASE WHEN $2 IS NOT NULL THEN "
    "       ($3::bigint[])[s.bucket + 1] END "
    "  FROM i WHERE s.sku = i.sku AND s.alert_below IS DISTINCT FROM "
    "       CASE WHEN $2 IS NOT NULL THEN ($3::bigint[])[s.bucket + 1] END",
    {TEXTOID, INT8OID, INT8ARRAYOID});

Statement S_alert_result(
    "SELECT i.sku, i.alert_threshold, i.buckets, l.available, "
    "       (SELECT count(*) FROM order_credit.stock_buckets s "
    "         WHERE s.sku = i.sku AND s.on_hand - s.reserved <= s.alert_below)::int "
    "  FROM order_credit.items i JOIN order_credit.stock_levels l ON l.sku = i.sku "
    " WHERE i.sku = $1",
    {TEXTOID});

Statement S_item_set_buckets(
    "UPDATE order_credit.items SET buckets = $2, updated_at = statement_timestamp() "
    " WHERE sku = $1",
    {TEXTOID, INT4OID});

// Byte order (COLLATE "C"), as core sorts the SKUs of a multi-item
// reservation and place_order sorts its items: every writer takes the
// buckets of several SKUs in one order whatever the database's collation
// (test/stress/stock_icu_lock_order.sh).
Statement S_order_skus(
    "SELECT DISTINCT sku COLLATE \"C\" FROM order_credit.reservations WHERE order_ref = $1 "
    "ORDER BY 1",
    {TEXTOID});

// The buckets the live claims of an order's reservations of one SKU ($2)
// hold units in, locked in bucket order: what commit and release update.
// Run with the SKU's StockLevel lock held, so no re-stripe moves the parts
// meanwhile; a claim expire_due deletes after it was read leaves its
// buckets locked for nothing.
Statement S_lock_order_parts(
    "SELECT s.bucket FROM order_credit.stock_buckets s "
    " WHERE s.sku = $2 AND s.bucket IN ("
    "       SELECT p.b FROM order_credit.reservations r "
    "         JOIN order_credit.reservation_claims c "
    "           ON c.sku = r.sku AND c.expires_at = coalesce(r.expires_at, 'infinity') "
    "          AND c.reservation_id = r.reservation_id, "
    "              unnest(coalesce(c.part_buckets, '{0}')) AS p(b) "
    "        WHERE r.order_ref = $1 AND r.sku = $2) "
    " ORDER BY s.bucket FOR NO KEY UPDATE OF s",
    {TEXTOID, TEXTOID});

// The order's reservations; run with the buckets of their claims held, so no
// claim comes or goes meanwhile. An active reservation counts as expired when
// it is past expiry or when expire_due already took its claim (a sweep whose
// clock was ahead of ours: it reads expired as if the sweep had marked it).
Statement S_order_lock(
    "SELECT r.reservation_id, r.sku, r.quantity, r.status, "
    "       coalesce(r.expires_at <= statement_timestamp(), false) "
    "       OR (r.status = 'active' AND NOT EXISTS ("
    "           SELECT 1 FROM order_credit.reservation_claims c "
    "            WHERE c.sku = r.sku AND c.expires_at = coalesce(r.expires_at, 'infinity') "
    "              AND c.reservation_id = r.reservation_id)) "
    "  FROM order_credit.reservations r WHERE r.order_ref = $1 ORDER BY r.sku COLLATE \"C\" FOR UPDATE",
    {TEXTOID});

// The claim of the reservation CTE r returned (sku, expires_at,
// reservation_id), deleted; returns its parts.
#define OC_DELETE_CLAIM                                                               \
    "c AS ("                                                                          \
    "    DELETE FROM order_credit.reservation_claims c USING r "                      \
    "     WHERE c.sku = r.sku AND c.expires_at = coalesce(r.expires_at, 'infinity') " \
    "       AND c.reservation_id = r.reservation_id "                                 \
    "    RETURNING c.sku, " OC_CLAIM_PARTS("c.") "), "

Statement S_commit_one(
    "WITH r AS ("
    "    UPDATE order_credit.reservations SET status = 'committed', "
    "           updated_at = statement_timestamp() "
    "     WHERE reservation_id = $1 AND status = 'active' "
    // clang-format off
    "    RETURNING reservation_id, sku, order_ref, quantity, expires_at), "
    OC_DELETE_CLAIM
    // clang-format on
    // A sale takes the units off on_hand and reserved alike: available does
    // not move, so no threshold can be crossed.
    "u AS ("
    "    UPDATE order_credit.stock_buckets s SET on_hand = s.on_hand - p.q, "
    "           reserved = s.reserved - p.q, updated_at = statement_timestamp() "
    "      FROM c, unnest(c.part_buckets, c.part_qty) AS p(b, q) "
    "     WHERE s.sku = c.sku AND s.bucket = p.b RETURNING 1), "
    "a AS ("
    "    INSERT INTO order_credit.stock_audit (sku, kind, delta, on_hand_after, buckets_after, "
    "                                          order_ref, reason, created_by) "
    "    SELECT r.sku, 'sale', -r.quantity, "
    "           (SELECT sum(s.on_hand) FROM order_credit.stock_buckets s "
    "             WHERE s.sku = r.sku)::bigint - r.quantity, "
    "           (SELECT i.buckets FROM order_credit.items i WHERE i.sku = r.sku), "
    "           r.order_ref, 'commit_stock', $2 FROM r) "
    "SELECT count(*) FROM c",
    {INT8OID, TEXTOID});

// active -> released or expired ($2); the units of its claim (if expire_due
// has not taken it yet) back to their buckets.
#define OC_RELEASE_ONE(returning)                                               \
    "WITH r AS ("                                                               \
    "    UPDATE order_credit.reservations SET status = $2, reason = $3, "       \
    "           updated_at = statement_timestamp() "                            \
    "     WHERE reservation_id = $1 AND status = 'active' "                     \
    "    RETURNING reservation_id, sku, expires_at), " OC_DELETE_CLAIM          \
    "u AS ("                                                                    \
    "    UPDATE order_credit.stock_buckets s SET reserved = s.reserved - p.q, " \
    "           updated_at = statement_timestamp() "                            \
    "      FROM c, unnest(c.part_buckets, c.part_qty) AS p(b, q) "              \
    "     WHERE s.sku = c.sku AND s.bucket = p.b RETURNING " returning          \
    ") "                                                                        \
    "SELECT count(*) FROM r"
Statement S_release_one(OC_RELEASE_ONE(OC_BUCKET_CROSSED("p.q")), {INT8OID, TEXTOID, TEXTOID});
// The same for a database still on 1.0 (no alert columns; notify.hpp).
Statement S_release_one_v1_0(OC_RELEASE_ONE("1"), {INT8OID, TEXTOID, TEXTOID});

// Re-striping: a live part (a claim's) in bucket b moves to b % n
// (core::remap_bucket), parts landing in one bucket merge; the reservation
// keeps the same parts as its claim. Claims are never UPDATEd (expire_due
// deletes them by ctid and relies on it): the claim is deleted and inserted
// again with the new parts.
Statement S_remap_parts(
    "WITH old AS ("
    "    DELETE FROM order_credit.reservation_claims c "
    "     WHERE c.sku = $1 AND EXISTS (SELECT 1 FROM unnest(c.part_buckets) AS b WHERE b >= $2) "
    "    RETURNING c.sku, c.expires_at, c.reservation_id, c.quantity, " OC_CLAIM_PARTS("c.") "), "
    "moved AS ("
    "    SELECT old.sku, old.expires_at, old.reservation_id, old.quantity, x.pb AS part_buckets, "
    "           x.pq AS part_qty "
    "      FROM old CROSS JOIN LATERAL ("
    "           SELECT array_agg(y.nb ORDER BY y.nb) AS pb, array_agg(y.q ORDER BY y.nb) AS pq "
    "             FROM (SELECT p.b % $2 AS nb, sum(p.q)::bigint AS q "
    "                     FROM unnest(old.part_buckets, old.part_qty) AS p(b, q) GROUP BY 1) y) x), "
    "c AS ("
    "    INSERT INTO order_credit.reservation_claims (sku, expires_at, reservation_id, quantity, "
    "                                                 part_buckets, part_qty) "
    "    SELECT m.sku, m.expires_at, m.reservation_id, m.quantity, " OC_CLAIM_STORED("m.") " "
    "      FROM moved m) "
    "UPDATE order_credit.reservations r "
    "   SET (part_buckets, part_qty) = (SELECT " OC_CLAIM_STORED("m.") "), "
    "       updated_at = statement_timestamp() "
    "  FROM moved m WHERE r.reservation_id = m.reservation_id",
    {TEXTOID, INT4OID});

Statement S_drop_buckets("DELETE FROM order_credit.stock_buckets WHERE sku = $1 AND bucket >= $2",
                         {TEXTOID, INT4OID});

// $5: each bucket's share of the item's threshold (alert_below), used when
// $6 (the item has a threshold).
Statement S_put_buckets(
    "INSERT INTO order_credit.stock_buckets AS s (sku, bucket, on_hand, reserved, alert_below) "
    "SELECT $1, x.b, x.o, x.r, CASE WHEN $6 THEN x.a END "
    "  FROM unnest($2::int[], $3::bigint[], $4::bigint[], $5::bigint[]) AS x(b, o, r, a) "
    "ON CONFLICT (sku, bucket) DO UPDATE SET on_hand = excluded.on_hand, "
    "    reserved = excluded.reserved, alert_below = excluded.alert_below, "
    "    updated_at = statement_timestamp() "
    " WHERE (s.on_hand, s.reserved, s.alert_below) IS DISTINCT FROM "
    "       (excluded.on_hand, excluded.reserved, excluded.alert_below)",
    {TEXTOID, INT4ARRAYOID, INT8ARRAYOID, INT8ARRAYOID, INT8ARRAYOID, BOOLOID});
// The same for a database still on 1.0 (no alert columns; notify.hpp).
Statement S_put_buckets_v1_0(
    "INSERT INTO order_credit.stock_buckets AS s (sku, bucket, on_hand, reserved) "
    "SELECT $1, x.b, x.o, x.r FROM unnest($2::int[], $3::bigint[], $4::bigint[]) AS x(b, o, r) "
    "ON CONFLICT (sku, bucket) DO UPDATE SET on_hand = excluded.on_hand, "
    "    reserved = excluded.reserved, updated_at = statement_timestamp() "
    " WHERE (s.on_hand, s.reserved) IS DISTINCT FROM (excluded.on_hand, excluded.reserved)",
    {TEXTOID, INT4ARRAYOID, INT8ARRAYOID, INT8ARRAYOID, INT8ARRAYOID, BOOLOID});

Statement S_audit(
    "INSERT INTO order_credit.stock_audit (sku, kind, delta, on_hand_after, buckets_after, reason, "
    "                                      created_by) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7)",
    {TEXTOID, TEXTOID, INT8OID, INT8OID, INT4OID, TEXTOID, TEXTOID});

// expire_due's stock step, one statement for the whole batch: the $1
// earliest due claims (the literal < 'infinity' lets the planner use the
// partial index reservation_claims_due), the buckets of their SKUs that no
// one holds (locked in (sku, bucket) order with SKIP LOCKED: never waits),
// then the due claims whose parts all lie in buckets we hold are deleted and
// their units given back. The reservation rows are not touched (past expiry
// they read as expired). The claims are deleted without a wait: any other
// writer of a claim (commit_stock, release_stock, a re-stripe) holds every
// bucket of its SKU while it does, and we hold the ones that matter. They
// are deleted by ctid (a TID scan; a join on the key got a hash join over
// the whole table): claims are only ever inserted and deleted, never
// updated, so the version we read is the one we delete, and a claim another
// writer deleted after our snapshot is skipped by the DELETE (no
// EvalPlanQual re-check, which a TID scan would not do). A row skipped now
// (a bucket was busy) is taken by a later call. Planned without sequential
// scans (kBatchByKey): the buckets are reached through their key, not by
// hashing the whole table twice, which is slower for any batch the sweep
// runs (docs/stock.md).
#define OC_EXPIRE_STOCK_BATCH(returning) \
    "WITH due AS MATERIALIZED (" \
    "    SELECT c.ctid AS tid, c.sku, " OC_CLAIM_BUCKETS("c.") " " \
    "      FROM order_credit.reservation_claims c " \
    "     WHERE c.expires_at <= statement_timestamp() AND c.expires_at < 'infinity' " \
    "     ORDER BY c.expires_at LIMIT $1), " \
    "lb AS MATERIALIZED (" \
    "    SELECT s.sku, s.bucket FROM order_credit.stock_buckets s " \
    "     WHERE s.sku IN (SELECT d.sku FROM due d) " \
    "     ORDER BY s.sku, s.bucket FOR NO KEY UPDATE SKIP LOCKED), " \
    "la AS MATERIALIZED (SELECT lb.sku, array_agg(lb.bucket) AS bs FROM lb GROUP BY lb.sku), " \
    "exp AS (" \
    "    DELETE FROM order_credit.reservation_claims c " \
    "     WHERE c.ctid = ANY (ARRAY(SELECT due.tid FROM due JOIN la ON la.sku = due.sku " \
    "                                WHERE due.part_buckets <@ la.bs)) " \
    "    RETURNING c.sku, " OC_CLAIM_PARTS("c.") "), " \
    "parts AS (SELECT exp.sku, p.b, sum(p.q) AS q " \
    "            FROM exp, unnest(exp.part_buckets, exp.part_qty) AS p(b, q) GROUP BY 1, 2), " \
    "upd AS (" \
    "    UPDATE order_credit.stock_buckets s SET reserved = s.reserved - parts.q, " \
    "           updated_at = statement_timestamp() " \
    "      FROM parts WHERE s.sku = parts.sku AND s.bucket = parts.b " \
    "    RETURNING " returning ") " \
    "SELECT count(*) FROM exp"
Statement S_expire_stock_batch(OC_EXPIRE_STOCK_BATCH(OC_BUCKET_CROSSED("parts.q")), {INT8OID},
                               Statement::kBatchByKey | Statement::kGeneric);
// The same for a database still on 1.0 (no alert columns; notify.hpp).
Statement S_expire_stock_batch_v1_0(OC_EXPIRE_STOCK_BATCH("1"), {INT8OID},
                                    Statement::kBatchByKey | Statement::kGeneric);

// ---------------------------------------------------------------- commit / release

struct LockedReservation {
    int64_t id;
    core::Reservation r;
};

// order_ref handle -> for each SKU of the order in byte order: its
// StockLevel lock (RowExclusiveLock: commits and releases do not conflict,
// a re-stripe's ExclusiveLock in set_stock waits for them and they for it,
// so the parts read next cannot move), the buckets its claims hold units in
// (bucket order), then, for a commit (`on_hand_mode` ExclusiveLock), its
// StockOnHand lock, which orders the SKU's on_hand changes (commits,
// adjust_stock, set_stock, each with all its buckets already locked) for
// stock_audit's running on_hand_after -> the reservation rows. Buyers take
// neither lock, and a commit or release waits only for the buyers of its
// own buckets: locking every bucket of a hot SKU would stop every buyer at
// each commit (docs/stock.md, measured). The
// StockOnHand lock comes after the buckets so that it is held only while
// the commit writes and commits, not while it waits for a buyer's bucket.
// In REPEATABLE READ and SERIALIZABLE every bucket is locked: the
// audit's sum must fail (40001) on a bucket changed since the snapshot.
std::vector<LockedReservation> lock_order(Datum order_ref_d, const std::string &order_ref,
                                          int on_hand_mode) {
    lock_handle(LockSpace::OrderRef, order_ref);
    Rows s = exec(S_order_skus, {val(order_ref_d)});
    std::vector<std::string> skus;
    for (uint64 i = 0; i < s.count(); ++i) skus.push_back(s.text(i, 1));
    if (skus.empty()) reservation_not_found(order_ref);
    bool all = IsolationUsesXactSnapshot();
    for (const auto &sku : skus) {
        lock_handle_mode(LockSpace::StockLevel, sku, RowExclusiveLock);
        Datum sku_d = text_datum(sku);
        if (all)
            (void)lock_buckets(sku_d);
        else
            (void)exec(S_lock_order_parts, {val(order_ref_d), val(sku_d)});
        if (on_hand_mode != NoLock) lock_handle_mode(LockSpace::StockOnHand, sku, on_hand_mode);
    }
    Rows r = exec(S_order_lock, {val(order_ref_d)});
    std::vector<LockedReservation> out;
    for (uint64 i = 0; i < r.count(); ++i)
        out.push_back(LockedReservation{
            r.int8(i, 1),
            core::Reservation{order_ref, r.text(i, 2), r.int8(i, 3),
                              core::parse_reservation_status(r.text(i, 4)), r.boolean(i, 5)}});
    return out;
}

void expect_one(const Rows &r, const char *what) {
    if (r.empty() || r.int8(0, 1) != 1)
        throw Error(Code::Internal, fmt::format("order_credit: {} changed no row", what));
}

Datum order_result(const Call &call, Datum order_ref_d) {
    SrfWriter w(call);
    Rows r = order_reservations_result(order_ref_d);
    for (uint64 i = 0; i < r.count(); ++i) w.put_row(r, i);
    return Datum(0);
}

Datum commit_stock(FunctionCallInfo fcinfo) {
    return with_spi(fcinfo, [](const Call &call) {
        Args args(call.fcinfo);
        std::string order_ref = args.key(0, "order_ref");
        Datum order_ref_d = args.datum(0);
        use_call_lock_timeout();
        std::vector<LockedReservation> rs = lock_order(order_ref_d, order_ref, ExclusiveLock);
        std::vector<core::StockAction> acts;
        for (const auto &lr : rs) acts.push_back(core::decide_commit(lr.r));  // all or nothing
        Datum user = caller_name();
        for (size_t i = 0; i < rs.size(); ++i)
            if (acts[i] == core::StockAction::Commit)
                expect_one(exec(S_commit_one, {val(Int64GetDatum(rs[i].id)), val(user)}), "commit");
        return order_result(call, order_ref_d);
    });
}

Datum release_stock(FunctionCallInfo fcinfo) {
    return with_spi(fcinfo, [](const Call &call) {
        Args args(call.fcinfo);
        std::string order_ref = args.key(0, "order_ref");
        std::optional<std::string> reason = args.opt_text(1, "reason");
        Datum order_ref_d = args.datum(0);
        Arg reason_a = reason ? val(args.datum(1)) : null_arg();
        use_call_lock_timeout();
        std::vector<LockedReservation> rs = lock_order(order_ref_d, order_ref, NoLock);
        std::vector<core::StockAction> acts;
        for (const auto &lr : rs) acts.push_back(core::decide_release(lr.r));
        for (size_t i = 0; i < rs.size(); ++i) {
            Datum id = Int64GetDatum(rs[i].id);
            if (acts[i] == core::StockAction::Release)
                expect_one(exec(notify::alerts_schema() ? S_release_one : S_release_one_v1_0,
                                {val(id), val(text_datum("released")), reason_a}),
                           "release");
            else if (acts[i] == core::StockAction::Expire)
                expect_one(exec(notify::alerts_schema() ? S_release_one : S_release_one_v1_0,
                                {val(id), val(text_datum("expired")), val(text_datum("expired"))}),
                           "expire");
        }
        return order_result(call, order_ref_d);
    });
}

// ---------------------------------------------------------------- levels

Datum status_result(const Call &call, Datum sku_d, const std::string &sku) {
    Rows r = status_row(sku_d);
    if (r.empty()) item_not_found(sku);
    return result_from_row(call, r, 0);
}

// Each bucket's share of an item's threshold (core::bucket_share).
std::vector<int64_t> shares(int64_t threshold, int n) {
    std::vector<int64_t> out;
    for (int k = 0; k < n; ++k) out.push_back(core::bucket_share(threshold, n, k));
    return out;
}

// Writes a new layout of the item (buckets 0..n-1) after moving live parts,
// and applies the threshold rule to each bucket: bucket k of `old` (the
// levels before, every bucket locked) against bucket k of the layout, each
// with its share of `threshold`; a bucket the layout adds counts as above
// its share before, and a bucket it removes is reported by core::removal.
void apply_layout(Datum sku_d, const std::string &sku, int old_n,
                  const std::vector<core::BucketLevel> &old,
                  const std::vector<core::BucketLevel> &layout, std::optional<int64_t> threshold) {
    int n = static_cast<int>(layout.size());
    if (old_n != n) exec(S_remap_parts, {val(sku_d), val(Int32GetDatum(n))});
    exec(S_drop_buckets, {val(sku_d), val(Int32GetDatum(n))});
    std::vector<int> b;
    std::vector<int64_t> o, r;
    for (const auto &l : layout) {
        b.push_back(l.bucket);
        o.push_back(l.on_hand);
        r.push_back(l.reserved);
    }
    std::vector<int64_t> a = shares(threshold.value_or(0), n);
    exec(notify::alerts_schema() ? S_put_buckets : S_put_buckets_v1_0,
         {val(sku_d), val(int4_array(b)), val(int8_array(o)), val(int8_array(r)),
          val(int8_array(a)), val(BoolGetDatum(threshold.has_value()))});
    if (old_n != n) exec(S_item_set_buckets, {val(sku_d), val(Int32GetDatum(n))});
    if (!threshold) return;
    for (const auto &l : layout) {
        const core::BucketLevel *was = nullptr;
        for (const auto &x : old)
            if (x.bucket == l.bucket) was = &x;
        int64_t before = was != nullptr ? was->available() : std::numeric_limits<int64_t>::max();
        int64_t share_before = was != nullptr && old_n > 0
                                   ? core::bucket_share(*threshold, old_n, l.bucket)
                                   : a[static_cast<size_t>(l.bucket)];
        notify::stock_change(sku, l.bucket, before, l.available(), share_before,
                             a[static_cast<size_t>(l.bucket)]);
    }
    for (const auto &x : old)
        if (x.bucket >= n)
            notify::stock_removed(sku, x.bucket, x.available(),
                                  core::bucket_share(*threshold, old_n, x.bucket));
}

std::optional<int64_t> opt_int8(const Rows &r, int col) {
    if (r.is_null(0, col)) return std::nullopt;
    return r.int8(0, col);
}

void audit(Datum sku_d, const char *kind, int64_t delta, int64_t after, int n, Arg reason,
           Datum user) {
    exec(S_audit, {val(sku_d), val(text_datum(kind)), val(Int64GetDatum(delta)),
                   val(Int64GetDatum(after)), val(Int32GetDatum(n)), reason, val(user)});
}

Datum set_stock(FunctionCallInfo fcinfo) {
    return with_spi(fcinfo, [](const Call &call) {
        Args args(call.fcinfo);
        std::string sku = args.key(0, "sku");
        int64_t on_hand = arg_int8(args, 1, "on_hand");
        core::require_on_hand(on_hand, "on_hand");
        int32 n = arg_int4(args, 2, "buckets");
        core::require_buckets(n, "buckets");
        Datum sku_d = args.datum(0);
        use_call_lock_timeout();
        bool created = !exec(S_item_create, {val(sku_d), val(Int32GetDatum(n))}).empty();
        Rows item = exec(notify::alerts_schema() ? S_item_lock : S_item_lock_v1_0, {val(sku_d)});
        if (item.empty()) throw Error(Code::Internal, "order_credit: item vanished");
        lock_handle_mode(LockSpace::StockLevel, sku, ExclusiveLock);  // see lock_order
        int old_n = created ? 0 : static_cast<int>(item.int8(0, 1));
        std::vector<core::BucketLevel> levels =
            created ? std::vector<core::BucketLevel>{} : lock_all_buckets(sku_d, sku);
        lock_handle(LockSpace::StockOnHand, sku);  // see lock_order
        core::StockLevel before = core::total(levels);
        if (created || old_n != n || before.on_hand != on_hand) {
            std::vector<core::BucketLevel> layout = core::plan_layout(sku, levels, n, on_hand);
            apply_layout(sku_d, sku, created ? n : old_n, levels, layout, opt_int8(item, 2));
            Datum user = caller_name();
            if (created || before.on_hand != on_hand)
                audit(sku_d, "set", on_hand - before.on_hand, on_hand, n,
                      val(text_datum(created ? "item created" : "set_stock")), user);
            if (!created && old_n != n)
                audit(sku_d, "restripe", 0, on_hand, n,
                      val(text_datum(fmt::format("buckets {} -> {}", old_n, n))), user);
        }
        return status_result(call, sku_d, sku);
    });
}

Datum adjust_stock(FunctionCallInfo fcinfo) {
    return with_spi(fcinfo, [](const Call &call) {
        Args args(call.fcinfo);
        std::string sku = args.key(0, "sku");
        int64_t delta = arg_int8(args, 1, "delta");
        core::require_delta(delta, "delta");
        std::string reason = args.reason(2, "reason");
        Datum sku_d = args.datum(0);
        use_call_lock_timeout();
        Rows item = exec(notify::alerts_schema() ? S_item_lock : S_item_lock_v1_0, {val(sku_d)});
        if (item.empty()) item_not_found(sku);
        int n = static_cast<int>(item.int8(0, 1));
        std::vector<core::BucketLevel> levels = lock_all_buckets(sku_d, sku);
        lock_handle(LockSpace::StockOnHand, sku);  // see lock_order
        int64_t next = core::check_adjust(sku, core::total(levels), delta);
        apply_layout(sku_d, sku, n, levels, core::plan_layout(sku, levels, n, next),
                     opt_int8(item, 2));
        audit(sku_d, "adjust", delta, next, n, val(args.datum(2)), caller_name());
        return status_result(call, sku_d, sku);
    });
}

// set_stock_alert(sku, threshold): the item's threshold (NULL: none) and
// its buckets' shares, with every bucket locked (a re-stripe cannot run
// meanwhile: both lock the item row first). Setting or removing a threshold
// sends nothing: crossings are changes of the units.
Datum set_stock_alert(FunctionCallInfo fcinfo) {
    return with_spi(fcinfo, [](const Call &call) {
        Args args(call.fcinfo);
        std::string sku = args.key(0, "sku");
        std::optional<int64_t> threshold;
        if (!args.is_null(1)) {
            threshold = DatumGetInt64(args.datum(1));
            core::require_threshold(*threshold, "threshold");
        }
        Datum sku_d = args.datum(0);
        use_call_lock_timeout();
        Rows item = exec(S_item_lock, {val(sku_d)});
        if (item.empty()) item_not_found(sku);
        int n = static_cast<int>(item.int8(0, 1));
        (void)lock_all_buckets(sku_d, sku, false);
        exec(S_set_alert, {val(sku_d), threshold ? val(args.datum(1)) : null_arg(),
                           val(int8_array(shares(threshold.value_or(0), n)))});
        Rows r = exec(S_alert_result, {val(sku_d)});
        return result_from_row(call, r, 0);
    });
}

Datum stock_status(FunctionCallInfo fcinfo) {
    return with_spi(fcinfo, [](const Call &call) {
        Args args(call.fcinfo);
        std::string sku = args.key(0, "sku");
        return status_result(call, args.datum(0), sku);
    });
}
}  // namespace

int64_t expire_stock_step(int64_t budget, Datum user) {
    (void)user;
    // Without the executor when the tables allow it (pg/stock/expire_direct.cpp),
    // otherwise the statement; which one ran is reported at DEBUG2.
    direct::Expired e = direct::expire_claims(budget);
    const char *path = !e.usable ? "SQL" : e.heap ? "direct, heap order" : "direct";
    pg_call([path] {
        ereport(DEBUG2, (errmsg_internal("order_credit: expire_due stock step: %s", path)));
    });
    if (e.usable) return e.expired;
    return exec(notify::alerts_schema() ? S_expire_stock_batch : S_expire_stock_batch_v1_0,
                {val(Int64GetDatum(budget))})
        .int8(0, 1);
}

}  // namespace oc::pg

using namespace oc::pg;

OC_FUNCTION(oc_set_stock) {
    return guard(fcinfo, "set_stock", set_stock);
}
OC_FUNCTION(oc_adjust_stock) {
    return guard(fcinfo, "adjust_stock", adjust_stock);
}
OC_FUNCTION(oc_set_stock_alert) {
    return guard(fcinfo, "set_stock_alert", set_stock_alert);
}
OC_FUNCTION(oc_stock_status) {
    return guard(fcinfo, "stock_status", stock_status);
}
OC_FUNCTION(oc_commit_stock) {
    return guard(fcinfo, "commit_stock", commit_stock);
}
OC_FUNCTION(oc_release_stock) {
    return guard(fcinfo, "release_stock", release_stock);
}
