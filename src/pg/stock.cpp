// Stock: SQL-callable functions (docs/reference.md, "Stock"), and the stock
// step of expire_due.
//
// Locking order (the extension's canonical order): the order_ref handle lock
// -> item row (set_stock / adjust_stock only) -> stock bucket rows sorted by
// (sku, bucket) -> reservation rows. A reservation of a one-bucket item
// updates bucket 0; on a striped item it takes a bucket no one holds or
// waits for ONE bucket (both pg/direct.cpp); only when no single bucket has
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
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/stock.hpp"
#include "pg/common.hpp"
#include "pg/direct.hpp"
#include "pg/expire.hpp"
#include "pg/jsonb_field.hpp"
#include "pg/spi.hpp"
#include "pg/subxact.hpp"

namespace oc::pg {
namespace {

using core::Code;
using core::Error;

// ---------------------------------------------------------------- statements

Statement S_status(
    "SELECT sku, on_hand, reserved, available, buckets, updated_at "
    "  FROM order_credit.stock_levels WHERE sku = $1",
    {TEXTOID});

Statement S_item_buckets("SELECT buckets FROM order_credit.items WHERE sku = $1", {TEXTOID});

Statement S_item_create(
    "INSERT INTO order_credit.items (sku, buckets) VALUES ($1, $2) "
    "ON CONFLICT (sku) DO NOTHING RETURNING 1",
    {TEXTOID, INT4OID});

Statement S_item_lock("SELECT buckets FROM order_credit.items WHERE sku = $1 FOR NO KEY UPDATE",
                      {TEXTOID});

Statement S_item_set_buckets(
    "UPDATE order_credit.items SET buckets = $2, updated_at = statement_timestamp() "
    " WHERE sku = $1",
    {TEXTOID, INT4OID});

Statement S_lock_buckets(
    "SELECT bucket, on_hand, reserved FROM order_credit.stock_buckets "
    " WHERE sku = $1 ORDER BY bucket FOR NO KEY UPDATE",
    {TEXTOID});

// A reservation's or claim's parts as stored: NULL for all units from
// bucket 0 (the common case, see reservations and reservation_claims in
// sql/20_stock.sql), and read back as arrays. OC_PARTS_STORED takes the
// two array expressions; the others a row's qualifier `p` with its dot, or "".
#define OC_PARTS_STORED(b, q) \
    "nullif(" b ", '{0}'), CASE WHEN " b " = '{0}' THEN NULL ELSE " q " END"
#define OC_CLAIM_STORED(p) OC_PARTS_STORED(p "part_buckets", p "part_qty")
#define OC_CLAIM_BUCKETS(p) "coalesce(" p "part_buckets, '{0}') AS part_buckets"
#define OC_CLAIM_PARTS(p) \
    OC_CLAIM_BUCKETS(p) ", coalesce(" p "part_qty, ARRAY[" p "quantity]) AS part_qty"

// With every bucket of the SKU locked: deletes the claims of its due
// reservations and gives their units back to the buckets they came from (the
// reservation rows stay as they are: past expiry, they read as expired).
Statement S_expire_sku_due(
    "WITH exp AS ("
    "    DELETE FROM order_credit.reservation_claims "
    "     WHERE sku = $1 AND expires_at <= statement_timestamp() "
    "    RETURNING " OC_CLAIM_PARTS("") "), "
    "parts AS (SELECT p.b, sum(p.q) AS q FROM exp, unnest(exp.part_buckets, exp.part_qty) AS p(b, q) "
    "           GROUP BY p.b), "
    "upd AS ("
    "    UPDATE order_credit.stock_buckets s SET reserved = s.reserved - parts.q, "
    "           updated_at = statement_timestamp() "
    "      FROM parts WHERE s.sku = $1 AND s.bucket = parts.b RETURNING 1) "
    "SELECT count(*) FROM exp",
    {TEXTOID});

// What a reservation starts from: the item's bucket count (no row: OC005)
// and this order_ref's reservation of the SKU, if any (a replay).
Statement S_res_probe(
    "SELECT i.buckets, r.quantity, r.status, coalesce(r.expires_at <= statement_timestamp(), false), "
    "       r.expires_in IS NOT DISTINCT FROM $3, r.reservation_id IS NOT NULL, "
    "       (SELECT count(*) FROM (SELECT FROM order_credit.reservation_claims x "
    "                               WHERE x.sku = $2 AND x.expires_at <= statement_timestamp() "
    "                               LIMIT $4 + 1) d) > $4 "
    "  FROM order_credit.items i "
    "  LEFT JOIN order_credit.reservations r ON r.order_ref = $1 AND r.sku = i.sku "
    " WHERE i.sku = $2",
    {TEXTOID, TEXTOID, INTERVALOID, INT4OID});

// The claim of every reservation inserted by the CTE r (which returns
// reservation_id, sku, quantity, expires_at, part_buckets, part_qty): the
// reservation's units are counted in reserved from now on.
#define OC_INSERT_CLAIM                                                                    \
    "c AS ("                                                                               \
    "    INSERT INTO order_credit.reservation_claims (sku, expires_at, reservation_id, "   \
    "                                                 quantity, part_buckets, part_qty) "  \
    "    SELECT r.sku, coalesce(r.expires_at, 'infinity'), r.reservation_id, r.quantity, " \
    "           " OC_CLAIM_STORED("r.") " FROM r) "

// The slow path's write, with every bucket locked: the parts core::plan_allocation
// planned. The bucket WHERE only re-checks that plan under the locks.
Statement S_alloc(
    "WITH p AS (SELECT * FROM unnest($4::int[], $5::bigint[]) AS p(b, q)), "
    "u AS ("
    "    UPDATE order_credit.stock_buckets s SET reserved = s.reserved + p.q, "
    "           updated_at = statement_timestamp() "
    "      FROM p WHERE s.sku = $1 AND s.bucket = p.b AND s.on_hand - s.reserved >= p.q "
    "    RETURNING 1), "
    "r AS ("
    "    INSERT INTO order_credit.reservations (order_ref, sku, quantity, part_buckets, "
    "                                           part_qty, expires_in, expires_at) "
    "    SELECT $3, $1, $2, " OC_PARTS_STORED("$4", "$5") ", $6, statement_timestamp() + $6 "
    "     WHERE (SELECT count(*) FROM u) = cardinality($4) "
    "    RETURNING reservation_id, sku, quantity, expires_at, part_buckets, part_qty), "
    OC_INSERT_CLAIM
    "SELECT reservation_id FROM r",
    {TEXTOID, INT8OID, TEXTOID, INT4ARRAYOID, INT8ARRAYOID, INTERVALOID});

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
Statement S_release_one(
    "WITH r AS ("
    "    UPDATE order_credit.reservations SET status = $2, reason = $3, "
    "           updated_at = statement_timestamp() "
    "     WHERE reservation_id = $1 AND status = 'active' "
    // clang-format off
    "    RETURNING reservation_id, sku, expires_at), "
    OC_DELETE_CLAIM
    // clang-format on
    "u AS ("
    "    UPDATE order_credit.stock_buckets s SET reserved = s.reserved - p.q, "
    "           updated_at = statement_timestamp() "
    "      FROM c, unnest(c.part_buckets, c.part_qty) AS p(b, q) "
    "     WHERE s.sku = c.sku AND s.bucket = p.b RETURNING 1) "
    "SELECT count(*) FROM r",
    {INT8OID, TEXTOID, TEXTOID});

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

Statement S_put_buckets(
    "INSERT INTO order_credit.stock_buckets AS s (sku, bucket, on_hand, reserved) "
    "SELECT $1, x.b, x.o, x.r FROM unnest($2::int[], $3::bigint[], $4::bigint[]) AS x(b, o, r) "
    "ON CONFLICT (sku, bucket) DO UPDATE SET on_hand = excluded.on_hand, "
    "    reserved = excluded.reserved, updated_at = statement_timestamp() "
    " WHERE (s.on_hand, s.reserved) IS DISTINCT FROM (excluded.on_hand, excluded.reserved)",
    {TEXTOID, INT4ARRAYOID, INT8ARRAYOID, INT8ARRAYOID});

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
// hashing the whole table twice (measured: a 100-row call took 8-11 ms with
// two sequential scans of 16,000 buckets, 3 ms by key; a 1,000-row call
// 21-24 ms, 17-21 ms).
Statement S_expire_stock_batch(
    "WITH due AS MATERIALIZED ("
    "    SELECT c.ctid AS tid, c.sku, " OC_CLAIM_BUCKETS("c.") " "
    "      FROM order_credit.reservation_claims c "
    "     WHERE c.expires_at <= statement_timestamp() AND c.expires_at < 'infinity' "
    "     ORDER BY c.expires_at LIMIT $1), "
    "lb AS MATERIALIZED ("
    "    SELECT s.sku, s.bucket FROM order_credit.stock_buckets s "
    "     WHERE s.sku IN (SELECT d.sku FROM due d) "
    "     ORDER BY s.sku, s.bucket FOR NO KEY UPDATE SKIP LOCKED), "
    "la AS MATERIALIZED (SELECT lb.sku, array_agg(lb.bucket) AS bs FROM lb GROUP BY lb.sku), "
    "exp AS ("
    "    DELETE FROM order_credit.reservation_claims c "
    "     WHERE c.ctid = ANY (ARRAY(SELECT due.tid FROM due JOIN la ON la.sku = due.sku "
    "                                WHERE due.part_buckets <@ la.bs)) "
    "    RETURNING c.sku, " OC_CLAIM_PARTS("c.") "), "
    "parts AS (SELECT exp.sku, p.b, sum(p.q) AS q "
    "            FROM exp, unnest(exp.part_buckets, exp.part_qty) AS p(b, q) GROUP BY 1, 2), "
    "upd AS ("
    "    UPDATE order_credit.stock_buckets s SET reserved = s.reserved - parts.q, "
    "           updated_at = statement_timestamp() "
    "      FROM parts WHERE s.sku = parts.sku AND s.bucket = parts.b RETURNING 1) "
    "SELECT count(*) FROM exp",
    {INT8OID}, Statement::kBatchByKey | Statement::kGeneric);

// ------------------------------------------------------------------ helpers

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

std::vector<core::BucketLevel> levels_from(const Rows &r) {
    std::vector<core::BucketLevel> out;
    for (uint64 i = 0; i < r.count(); ++i)
        out.push_back(
            core::BucketLevel{static_cast<int>(r.int8(i, 1)), r.int8(i, 2), r.int8(i, 3)});
    return out;
}

// Locks every bucket of the SKU in bucket order (waiting), with `expire`
// expires its due reservations, and returns the levels (exact with
// `expire`). A re-stripe that committed
// while we waited shows as a bucket count that differs from the item's:
// lock again (the new rows have higher numbers or are free).
std::vector<core::BucketLevel> lock_all_buckets(Datum sku_d, const std::string &sku,
                                                bool expire = true) {
    Rows b(nullptr, 0);
    for (int round = 0;; ++round) {
        b = exec(S_lock_buckets, {val(sku_d)});
        Rows n = exec(S_item_buckets, {val(sku_d)});
        if (n.empty()) item_not_found(sku);
        if (static_cast<int64_t>(b.count()) == n.int8(0, 1) || round >= 3) break;
    }
    if (!expire) return levels_from(b);
    (void)exec(S_expire_sku_due, {val(sku_d)});
    return levels_from(exec(S_lock_buckets, {val(sku_d)}));
}

using direct::next_spread;

struct ReserveItem {
    std::string sku;
    int64_t quantity;
    Datum sku_d;
};

struct Ttl {
    bool has;
    Datum d;
    Arg arg() const { return has ? val(d) : null_arg(); }
};

// A stock_reservation row (the function's result type), values valid for
// the rest of the call.
struct ResRow {
    static constexpr int kCols = 7;
    Datum values[kCols];
    bool nulls[kCols];
};

ResRow res_row(const Rows &r) {
    ResRow out{};
    for (int c = 0; c < ResRow::kCols; ++c) {
        out.nulls[c] = r.is_null(0, c + 1);
        out.values[c] = r.datum(0, c + 1);
    }
    return out;
}

// A reservation of one bucket without the executor (pg/direct.hpp), when the
// tables allow it (Direct::Unusable otherwise: the SQL path does it).
enum class Direct { Unusable, TooFew, Placed };
Direct reserve_direct(Datum order_ref_d, const ReserveItem &it, const Ttl &ttl, int32 buckets,
                      int32 offset, ResRow *row) {
    direct::Placed p =
        direct::reserve(it.sku_d, order_ref_d, it.quantity, ttl.has, ttl.d, buckets, offset);
    if (!p.usable) return Direct::Unusable;
    stats::add_lock_wait_us(static_cast<int64_t>(p.lock_wait_ms * 1000.0));
    if (!p.placed) return Direct::TooFew;
    *row = ResRow{};
    row->values[0] = Int64GetDatum(p.reservation_id);
    row->values[1] = it.sku_d;
    row->values[2] = order_ref_d;
    row->values[3] = Int64GetDatum(it.quantity);
    row->values[4] = text_datum("active");
    row->values[5] = TimestampTzGetDatum(p.expires_at);
    row->nulls[5] = p.expires_null;
    row->values[6] = Int64GetDatum(p.available);
    return Direct::Placed;
}

// When the slow path expires the SKU's due reservations: before it plans
// (First), or only when no bucket alone has enough (IfShort: the requests
// the direct path places in one bucket without expiring anything, so both
// leave the same claims for expire_due).
enum class Sweep { First, IfShort };
ResRow reserve_slow(Datum order_ref_d, const ReserveItem &it, const Ttl &ttl, Sweep sweep);

// Reserves one SKU for order_ref (or recognises a replay). The caller holds
// the order_ref handle lock. Returns the stock_reservation row;
// `*direct_used` is set when the direct path (pg/direct.hpp) placed it.
//
// One writer and one fallback. The writer is the direct path
// (pg/direct.cpp): buyers of a striped item never queue behind each other,
// and no two calls deadlock, because a call waits for bucket locks only (a)
// for the single bucket of a one-bucket item, (b) for one bucket of a
// striped item while holding no other bucket of that SKU (its gate first,
// then its row only when a writer without a gate holds it), or (c) for all
// buckets of the SKU in bucket order, holding at most bucket 0 of it
// before. The fallback, when the direct path is unusable
// (order_credit.direct_access off, tables not as the extension created
// them) or finds too few units in the bucket it tried, is (c): reserve_slow.
ResRow reserve_one(Datum order_ref_d, const std::string &order_ref, const ReserveItem &it,
                   const Ttl &ttl, bool *direct_used = nullptr) {
    direct::Probe dp = direct::probe(order_ref_d, it.sku_d);
    if (dp.usable && !dp.item) item_not_found(it.sku);
    if (dp.usable && !dp.replay) {
        // TooFew leaves at most bucket 0 of a one-bucket item locked (rule
        // (a)); a striped item waits for one bucket's gate and locks a row
        // only to update it, so it keeps no bucket it does not use and the
        // slow path may follow.
        ResRow row;
        int32 offset = dp.buckets == 1 ? 0 : next_spread();
        Direct d = reserve_direct(order_ref_d, it, ttl, dp.buckets, offset, &row);
        if (d == Direct::Placed) {
            if (direct_used != nullptr) *direct_used = true;
            return row;
        }
        if (d == Direct::TooFew) return reserve_slow(order_ref_d, it, ttl, Sweep::First);
    }
    Rows probe = exec(S_res_probe, {val(order_ref_d), val(it.sku_d), ttl.arg(),
                                    val(Int32GetDatum(direct::kDueLimit))});
    if (probe.empty()) item_not_found(it.sku);
    if (probe.boolean(0, 6)) {
        core::Reservation r{order_ref, it.sku, probe.int8(0, 2),
                            core::parse_reservation_status(probe.text(0, 3)), probe.boolean(0, 4)};
        core::check_reserve_replay(r, it.quantity, probe.boolean(0, 5));
        return res_row(exec(S_res_result_one, {val(order_ref_d), val(it.sku_d)}));
    }
    // Too many due claims of the SKU: expire them first, as the direct path
    // does (direct::kDueLimit).
    bool many_due = probe.boolean(0, 7) && lock_handle(LockSpace::DueSweep, it.sku, false);
    return reserve_slow(order_ref_d, it, ttl, many_due ? Sweep::First : Sweep::IfShort);
}

// (c) The slow path: every bucket locked in order, due reservations
// expired (see Sweep), then the core's plan over the levels (or OC004 with
// the numbers).
ResRow reserve_slow(Datum order_ref_d, const ReserveItem &it, const Ttl &ttl, Sweep sweep) {
    Datum q_d = Int64GetDatum(it.quantity);
    std::vector<core::BucketLevel> levels =
        lock_all_buckets(it.sku_d, it.sku, sweep == Sweep::First);
    if (sweep == Sweep::IfShort && !core::one_bucket_serves(levels, it.quantity)) {
        (void)exec(S_expire_sku_due, {val(it.sku_d)});
        levels = levels_from(exec(S_lock_buckets, {val(it.sku_d)}));
    }
    std::vector<core::Part> parts = core::plan_allocation(it.sku, levels, it.quantity);
    std::vector<int> pb;
    std::vector<int64_t> pq;
    for (const auto &p : parts) {
        pb.push_back(p.bucket);
        pq.push_back(p.quantity);
    }
    Rows placed = exec(S_alloc, {val(it.sku_d), val(q_d), val(order_ref_d), val(int4_array(pb)),
                                 val(int8_array(pq)), ttl.arg()});
    if (placed.empty())
        throw Error(Code::Internal, "order_credit: reservation refused after the plan passed");
    return res_row(exec(S_res_result_one, {val(order_ref_d), val(it.sku_d)}));
}

struct SingleArgs {
    ReserveItem item;
    std::string order_ref;
    Datum order_ref_d;
    Ttl ttl;
};

SingleArgs single_args(const Args &args) {
    SingleArgs a;
    a.item.sku = args.key(0, "sku");
    a.item.quantity = arg_int8(args, 1, "quantity");
    core::require_quantity(a.item.quantity, "quantity");
    a.order_ref = args.key(2, "order_ref");
    auto ttl = args.opt_expiry_interval(3, "expires_in");
    a.item.sku_d = args.datum(0);
    a.order_ref_d = args.datum(2);
    a.ttl = Ttl{ttl.has_value(), ttl.value_or(Datum(0))};
    return a;
}

// ---------------------------------------------------------------- reserve

Datum reserve_stock(FunctionCallInfo fcinfo) {
    return with_spi(fcinfo, [](const Call &call) {
        SingleArgs a = single_args(Args(call.fcinfo));
        apply_lock_timeout();
        lock_handle(LockSpace::OrderRef, a.order_ref);
        bool direct_used = false;
        ResRow r = reserve_one(a.order_ref_d, a.order_ref, a.item, a.ttl, &direct_used);
        debug_path("reserve_stock", direct_used ? "direct" : "SQL");
        return result_from_values(call, r.values, r.nulls, ResRow::kCols);
    });
}

Datum try_reserve_stock(FunctionCallInfo fcinfo) {
    return with_spi(fcinfo, [](const Call &call) {
        SingleArgs a = single_args(Args(call.fcinfo));
        apply_lock_timeout();
        Datum values[5] = {0};
        bool nulls[5] = {false, true, true, true, true};
        Outcome out = attempt([&] {
            lock_handle(LockSpace::OrderRef, a.order_ref);
            ResRow r = reserve_one(a.order_ref_d, a.order_ref, a.item, a.ttl);
            values[3] = r.values[0];  // reservation_id (int8 by value)
            nulls[3] = false;
        });
        values[0] = BoolGetDatum(out.ok);
        if (!out.ok) {
            stats::note_outcome(out.code);
            values[1] = text_datum(std::string(core::code_name(out.code)));
            values[2] = text_datum(out.message);
            nulls[1] = nulls[2] = false;
        }
        Rows s = exec(S_status, {val(a.item.sku_d)});
        if (!s.empty()) {
            values[4] = s.datum(0, 4);
            nulls[4] = false;
        }
        return return_one_row(call, values, nulls, 5);
    });
}

// One element of the items array, as plain data (filled inside pg_call).
struct RawElem {
    bool is_object;
    JsonField sku, quantity;
    const char *unknown;  // the smallest key (byte order) besides sku and quantity, or null
    int unknown_len;
};

// The smallest key of object `c` other than sku and quantity (keys are
// compared as bytes), or null. Call only inside pg_call.
void smallest_unknown_key(JsonbContainer *c, RawElem *e) {
    JsonbIterator *it = JsonbIteratorInit(c);
    JsonbValue v;
    JsonbIteratorToken tok;
    bool skip_nested = true;
    while ((tok = JsonbIteratorNext(&it, &v, skip_nested)) != WJB_DONE) {
        if (tok != WJB_KEY) continue;
        const char *k = v.val.string.val;
        int len = v.val.string.len;
        if ((len == 3 && memcmp(k, "sku", 3) == 0) || (len == 8 && memcmp(k, "quantity", 8) == 0))
            continue;
        if (e->unknown != nullptr) {
            int cmp = memcmp(k, e->unknown, static_cast<size_t>(std::min(len, e->unknown_len)));
            if (cmp > 0 || (cmp == 0 && len >= e->unknown_len)) continue;
        }
        e->unknown = k;
        e->unknown_len = len;
    }
}

core::JsonKind json_kind(const JsonField &f) {
    switch (f.kind) {
        case kAbsent:
            return core::JsonKind::Missing;
        case kString:
            return core::JsonKind::String;
        case kNumber:
            return core::JsonKind::Number;
        default:
            return core::JsonKind::Other;
    }
}

std::vector<core::Item> read_items(Datum d) {
    Jsonb *jb = pg_call([d]() -> Jsonb * { return DatumGetJsonbP(d); });
    JsonbContainer *root = &jb->root;
    bool is_array = JsonContainerIsArray(root) && !JsonContainerIsScalar(root);
    int n = is_array ? static_cast<int>(JsonContainerSize(root)) : 0;
    std::vector<core::RawItem> raw;
    raw.reserve(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
        RawElem e = pg_call([root, i]() -> RawElem {
            RawElem e{};
            JsonbValue *v = getIthJsonbValueFromContainer(root, static_cast<uint32>(i));
            if (v == nullptr || v->type != jbvBinary || !JsonContainerIsObject(v->val.binary.data))
                return e;
            e.is_object = true;
            JsonbContainer *c = v->val.binary.data;
            e.sku = read_json_field(c, "sku", 3);
            e.quantity = read_json_field(c, "quantity", 8);
            int known = (e.sku.kind != kAbsent) + (e.quantity.kind != kAbsent);
            if (known < static_cast<int>(JsonContainerSize(c))) smallest_unknown_key(c, &e);
            return e;
        });
        core::RawItem r;
        r.is_object = e.is_object;
        if (e.unknown != nullptr)
            r.unknown_key.assign(e.unknown, static_cast<size_t>(e.unknown_len));
        r.sku_kind = json_kind(e.sku);
        if (e.sku.kind == kString) r.sku.assign(e.sku.str, static_cast<size_t>(e.sku.len));
        r.sku_chars = static_cast<size_t>(e.sku.chars);
        r.quantity_kind = json_kind(e.quantity);
        if (e.quantity.kind == kNumber)
            r.quantity.assign(e.quantity.str, static_cast<size_t>(e.quantity.len));
        raw.push_back(std::move(r));
    }
    return core::validate_items(is_array, raw);
}

Datum reserve_stock_items(FunctionCallInfo fcinfo) {
    return with_spi(fcinfo, [](const Call &call) {
        Args args(call.fcinfo);
        if (args.is_null(0)) throw Error(Code::NullValue, "items must not be NULL");
        std::vector<core::Item> items = read_items(args.datum(0));
        std::string order_ref = args.key(1, "order_ref");
        auto ttl_opt = args.opt_expiry_interval(2, "expires_in");
        Ttl ttl{ttl_opt.has_value(), ttl_opt.value_or(Datum(0))};
        Datum order_ref_d = args.datum(1);
        apply_lock_timeout();
        lock_handle(LockSpace::OrderRef, order_ref);
        // Sorted by sku: buckets are locked in the canonical order.
        std::vector<ReserveItem> todo;
        for (const auto &i : items)
            todo.push_back(ReserveItem{i.sku, i.quantity, text_datum(i.sku)});
        for (const auto &it : todo) (void)reserve_one(order_ref_d, order_ref, it, ttl);
        SrfWriter w(call);
        for (const auto &it : todo) {
            Rows r = exec(S_res_result_one, {val(order_ref_d), val(it.sku_d)});
            w.put_row(r, 0);
        }
        return Datum(0);
    });
}

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
            (void)exec(S_lock_buckets, {val(sku_d)});
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
    Rows r = exec(S_res_result_order, {val(order_ref_d)});
    for (uint64 i = 0; i < r.count(); ++i) w.put_row(r, i);
    return Datum(0);
}

Datum commit_stock(FunctionCallInfo fcinfo) {
    return with_spi(fcinfo, [](const Call &call) {
        Args args(call.fcinfo);
        std::string order_ref = args.key(0, "order_ref");
        Datum order_ref_d = args.datum(0);
        apply_lock_timeout();
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
        apply_lock_timeout();
        std::vector<LockedReservation> rs = lock_order(order_ref_d, order_ref, NoLock);
        std::vector<core::StockAction> acts;
        for (const auto &lr : rs) acts.push_back(core::decide_release(lr.r));
        for (size_t i = 0; i < rs.size(); ++i) {
            Datum id = Int64GetDatum(rs[i].id);
            if (acts[i] == core::StockAction::Release)
                expect_one(exec(S_release_one, {val(id), val(text_datum("released")), reason_a}),
                           "release");
            else if (acts[i] == core::StockAction::Expire)
                expect_one(exec(S_release_one,
                                {val(id), val(text_datum("expired")), val(text_datum("expired"))}),
                           "expire");
        }
        return order_result(call, order_ref_d);
    });
}

// ---------------------------------------------------------------- levels

Datum status_result(const Call &call, Datum sku_d, const std::string &sku) {
    Rows r = exec(S_status, {val(sku_d)});
    if (r.empty()) item_not_found(sku);
    return result_from_row(call, r, 0);
}

// Writes a new layout of the item (buckets 0..n-1) after moving live parts.
void apply_layout(Datum sku_d, int old_n, const std::vector<core::BucketLevel> &layout) {
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
    exec(S_put_buckets, {val(sku_d), val(int4_array(b)), val(int8_array(o)), val(int8_array(r))});
    if (old_n != n) exec(S_item_set_buckets, {val(sku_d), val(Int32GetDatum(n))});
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
        apply_lock_timeout();
        bool created = !exec(S_item_create, {val(sku_d), val(Int32GetDatum(n))}).empty();
        Rows item = exec(S_item_lock, {val(sku_d)});
        if (item.empty()) throw Error(Code::Internal, "order_credit: item vanished");
        lock_handle_mode(LockSpace::StockLevel, sku, ExclusiveLock);  // see lock_order
        int old_n = created ? 0 : static_cast<int>(item.int8(0, 1));
        std::vector<core::BucketLevel> levels =
            created ? std::vector<core::BucketLevel>{} : lock_all_buckets(sku_d, sku);
        lock_handle(LockSpace::StockOnHand, sku);  // see lock_order
        core::StockLevel before = core::total(levels);
        if (created || old_n != n || before.on_hand != on_hand) {
            std::vector<core::BucketLevel> layout = core::plan_layout(sku, levels, n, on_hand);
            apply_layout(sku_d, created ? n : old_n, layout);
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
        apply_lock_timeout();
        Rows item = exec(S_item_lock, {val(sku_d)});
        if (item.empty()) item_not_found(sku);
        int n = static_cast<int>(item.int8(0, 1));
        std::vector<core::BucketLevel> levels = lock_all_buckets(sku_d, sku);
        lock_handle(LockSpace::StockOnHand, sku);  // see lock_order
        int64_t next = core::check_adjust(sku, core::total(levels), delta);
        apply_layout(sku_d, n, core::plan_layout(sku, levels, n, next));
        audit(sku_d, "adjust", delta, next, n, val(args.datum(2)), caller_name());
        return status_result(call, sku_d, sku);
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
    // Without the executor when the tables allow it (pg/direct_expire.cpp),
    // otherwise the statement; which one ran is reported at DEBUG2.
    direct::Expired e = direct::expire_claims(budget);
    const char *path = !e.usable ? "SQL" : e.heap ? "direct, heap order" : "direct";
    pg_call([path] {
        ereport(DEBUG2, (errmsg_internal("order_credit: expire_due stock step: %s", path)));
    });
    if (e.usable) return e.expired;
    return exec(S_expire_stock_batch, {val(Int64GetDatum(budget))}).int8(0, 1);
}

}  // namespace oc::pg

using namespace oc::pg;

OC_FUNCTION(oc_set_stock) {
    return guard(fcinfo, "set_stock", set_stock);
}
OC_FUNCTION(oc_adjust_stock) {
    return guard(fcinfo, "adjust_stock", adjust_stock);
}
OC_FUNCTION(oc_stock_status) {
    return guard(fcinfo, "stock_status", stock_status);
}
OC_FUNCTION(oc_reserve_stock) {
    return guard(fcinfo, "reserve_stock", reserve_stock);
}
OC_FUNCTION(oc_reserve_stock_items) {
    return guard(fcinfo, "reserve_stock", reserve_stock_items);
}
OC_FUNCTION(oc_try_reserve_stock) {
    return guard(fcinfo, "try_reserve_stock", try_reserve_stock);
}
OC_FUNCTION(oc_commit_stock) {
    return guard(fcinfo, "commit_stock", commit_stock);
}
OC_FUNCTION(oc_release_stock) {
    return guard(fcinfo, "release_stock", release_stock);
}
