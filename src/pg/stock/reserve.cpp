// Stock reservations: reserve_stock (one SKU, or the items of a jsonb
// document, all or nothing) and try_reserve_stock. The writer is the direct
// path (stock/reserve_direct.hpp); its SQL fallback is the slow path here.
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/stock.hpp"
#include "pg/common.hpp"
#include "pg/notify.hpp"
#include "pg/stock/reserve_direct.hpp"
#include "pg/jsonb_field.hpp"
#include "pg/spi.hpp"
#include "pg/subxact.hpp"
#include "pg/stock/buckets.hpp"

namespace oc::pg {
namespace {

using core::Code;
using core::Error;
using namespace buckets;

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
#define OC_ALLOC(crossed) \
    "WITH p AS (SELECT * FROM unnest($4::int[], $5::bigint[]) AS p(b, q)), "\
    "u AS ("\
    "    UPDATE order_credit.stock_buckets s SET reserved = s.reserved + p.q, "\
    "           updated_at = statement_timestamp() "\
    "      FROM p WHERE s.sku = $1 AND s.bucket = p.b AND s.on_hand - s.reserved >= p.q "\
    "    RETURNING " crossed "), "\
    "r AS ("\
    "    INSERT INTO order_credit.reservations (order_ref, sku, quantity, part_buckets, "\
    "                                           part_qty, expires_in, expires_at) "\
    "    SELECT $3, $1, $2, " OC_PARTS_STORED("$4", "$5") ", $6, statement_timestamp() + $6 "\
    "     WHERE (SELECT count(*) FROM u) = cardinality($4) "\
    "    RETURNING reservation_id, sku, quantity, expires_at, part_buckets, part_qty), "\
    OC_INSERT_CLAIM\
    "SELECT reservation_id FROM r"
// 1.1 (the threshold rule on each bucket), and 1.0 (no alert columns).
Statement S_alloc(OC_ALLOC(OC_BUCKET_CROSSED("-p.q")),
                  {TEXTOID, INT8OID, TEXTOID, INT4ARRAYOID, INT8ARRAYOID, INTERVALOID});
Statement S_alloc_v1_0(OC_ALLOC("1"),
                       {TEXTOID, INT8OID, TEXTOID, INT4ARRAYOID, INT8ARRAYOID, INTERVALOID});

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

// A reservation of one bucket without the executor (pg/stock/reserve_direct.hpp), when the
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
// `*direct_used` is set when the direct path (pg/stock/reserve_direct.hpp) placed it.
//
// One writer and one fallback. The writer is the direct path
// (pg/stock/reserve_direct.cpp): buyers of a striped item never queue behind each other,
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
        return res_row(reservation_result(order_ref_d, it.sku_d));
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
    if (sweep == Sweep::IfShort && !core::one_bucket_serves(levels, it.quantity))
        levels = expire_sku_due(it.sku_d);
    std::vector<core::Part> parts = core::plan_allocation(it.sku, levels, it.quantity);
    std::vector<int> pb;
    std::vector<int64_t> pq;
    for (const auto &p : parts) {
        pb.push_back(p.bucket);
        pq.push_back(p.quantity);
    }
    Rows placed = exec(notify::alerts_schema() ? S_alloc : S_alloc_v1_0,
                       {val(it.sku_d), val(q_d), val(order_ref_d), val(int4_array(pb)),
                        val(int8_array(pq)), ttl.arg()});
    if (placed.empty())
        throw Error(Code::Internal, "order_credit: reservation refused after the plan passed");
    return res_row(reservation_result(order_ref_d, it.sku_d));
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
        use_call_lock_timeout();
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
        use_call_lock_timeout();
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
        Rows s = status_row(a.item.sku_d);
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
        use_call_lock_timeout();
        lock_handle(LockSpace::OrderRef, order_ref);
        // Sorted by sku: buckets are locked in the canonical order.
        std::vector<ReserveItem> todo;
        for (const auto &i : items)
            todo.push_back(ReserveItem{i.sku, i.quantity, text_datum(i.sku)});
        for (const auto &it : todo) (void)reserve_one(order_ref_d, order_ref, it, ttl);
        SrfWriter w(call);
        for (const auto &it : todo) {
            Rows r = reservation_result(order_ref_d, it.sku_d);
            w.put_row(r, 0);
        }
        return Datum(0);
    });
}

}  // namespace
}  // namespace oc::pg

using namespace oc::pg;

OC_FUNCTION(oc_reserve_stock) {
    return guard(fcinfo, "reserve_stock", reserve_stock);
}
OC_FUNCTION(oc_reserve_stock_items) {
    return guard(fcinfo, "reserve_stock", reserve_stock_items);
}
OC_FUNCTION(oc_try_reserve_stock) {
    return guard(fcinfo, "try_reserve_stock", try_reserve_stock);
}
