// The writer of stock reservations (stock/reserve_direct.hpp), on the
// mechanics of access/table_access.hpp (which says why and when the
// writers bypass SQL).
//
// Every PostgreSQL call is made inside pg_call; the row checks (C++) run
// between those steps. A step that fails raises, and the (sub)transaction
// abort releases what was open (relations, index scans, buffer pins,
// snapshot), as for any statement that fails half-way.
#include <algorithm>
#include <chrono>
#include <cstring>

#include "core/row_checks.hpp"
#include "core/stock.hpp"
#include "pg/guard.hpp"
#include "pg/notify.hpp"
#include "pg/row_checks.hpp"
#include "pg/access/table_access.hpp"
#include "pg/stock/reserve_direct.hpp"
#include "pg/common.hpp"

extern "C" {
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/xact.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/dependency.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_index.h"
#include "catalog/pg_language.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_publication.h"
#include "catalog/pg_trigger.h"
#include "commands/sequence.h"
#include "common/int.h"
#include "executor/executor.h"
#include "nodes/makefuncs.h"
#include "parser/parse_func.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/fmgrprotos.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
}

namespace oc::pg::direct {

namespace {

using namespace detail;

// ------------------------------------------------------------ catalog cache

// OIDs of the relations this path uses, resolved by name once per backend
// and forgotten on any relcache invalidation of one of them (Watched).
struct Catalog {
    bool valid;
    Oid user;  // the decisions below are this user's (privileges)
    Oid items, items_pkey;
    Oid buckets, buckets_pkey;
    Oid reservations, reservations_key, reservation_seq;
    Oid claims, claims_pkey;
    // Whether the tables are as expected (shape / writable / index_on),
    // decided at the first use after each resolution: -1 not yet, 0 no, 1
    // yes. Any DDL on them is a relcache invalidation, which forgets this
    // with the OIDs. Measured: checking on every call cost ~12k
    // instructions per reservation.
    int probe_ok, write_ok;
};
AttrNumber items_att[2], res_att[12], buckets_att[B_N], claims_att[6];  // with probe_ok / write_ok
Catalog cat{};
Watched watched{};

// Inside pg_call. False: the extension's relations are not there.
bool resolve() {
    if (cat.valid && cat.user == GetUserId()) return true;
    Catalog c{};
    if (!find_watched(&watched, &cat.valid,
                      {{&c.items, "items"},
                       {&c.items_pkey, "items_pkey"},
                       {&c.buckets, "stock_buckets"},
                       {&c.buckets_pkey, "stock_buckets_pkey"},
                       {&c.reservations, "reservations"},
                       {&c.reservations_key, "reservations_order_ref_sku_key"},
                       {&c.claims, "reservation_claims"},
                       {&c.claims_pkey, "reservation_claims_pkey"}}))
        return false;
    AttrNumber id = get_attnum(c.reservations, "reservation_id");
    if (id == InvalidAttrNumber) return false;
    c.reservation_seq = getIdentitySequence(c.reservations, id, true);
    if (!OidIsValid(c.reservation_seq)) return false;
    c.probe_ok = c.write_ok = -1;
    c.user = GetUserId();
    c.valid = true;
    cat = c;
    return true;
}

// ------------------------------------------------------------ table shapes

const Col kItems[] = {{"sku", TEXTOID}, {"buckets", INT4OID}};
enum { I_SKU, I_BUCKETS };

const Col kReservations[] = {{"reservation_id", INT8OID},
                             {"order_ref", TEXTOID},
                             {"sku", TEXTOID},
                             {"quantity", INT8OID},
                             {"part_buckets", INT4ARRAYOID},
                             {"part_qty", INT8ARRAYOID},
                             {"status", TEXTOID, "'active'::text"},
                             {"expires_in", INTERVALOID},
                             {"expires_at", TIMESTAMPTZOID},
                             {"reason", TEXTOID},
                             {"created_at", TIMESTAMPTZOID, kNow},
                             {"updated_at", TIMESTAMPTZOID, kNow}};
enum {
    R_ID,
    R_ORDER_REF,
    R_SKU,
    R_QUANTITY,
    R_PART_BUCKETS,
    R_PART_QTY,
    R_STATUS,
    R_EXPIRES_IN,
    R_EXPIRES_AT,
    R_REASON,
    R_CREATED_AT,
    R_UPDATED_AT,
    R_N
};

const Col kClaims[] = {
    {"sku", TEXTOID},      {"expires_at", TIMESTAMPTZOID}, {"reservation_id", INT8OID},
    {"quantity", INT8OID}, {"part_buckets", INT4ARRAYOID}, {"part_qty", INT8ARRAYOID}};
enum { C_SKU, C_EXPIRES_AT, C_ID, C_QUANTITY, C_PART_BUCKETS, C_PART_QTY, C_N };
static_assert(sizeof items_att / sizeof items_att[0] == 2 &&
                  sizeof res_att / sizeof res_att[0] == R_N &&
                  sizeof buckets_att / sizeof buckets_att[0] == B_N &&
                  sizeof claims_att / sizeof claims_att[0] == C_N,
              "cached attribute numbers match the table shapes");

}  // namespace

namespace {

using namespace detail;

// ------------------------------------------------------------ the write

// A bucket of the item, as the first scan saw it.
// A bucket as read (core::BucketCandidate) and where its version is.
struct Cand : core::BucketCandidate {
    ItemPointerData tid;
};
constexpr int kMaxBuckets = 1024;  // set_stock's limit

// State of one reservation across its steps (palloc'd in the call's
// memory context).
struct Write {
    Snapshot snap;
    EState *estate;
    TimestampTz now;
    Datum sku, order_ref, ttl;
    bool has_ttl;
    int64 quantity;

    Relation buckets, buckets_pkey, reservations, claims, claims_pkey;
    ResultRelInfo *buckets_rri, *reservations_rri, *claims_rri;
    AttrNumber b[B_N], r[R_N], c[C_N];
    TupleTableSlot *bucket, *bucket_new, *reservation, *claim;
    int32 nbuckets;  // the item's bucket count (1: bucket 0 only)
    int32 offset;    // striped: where this call starts in the bucket order
    Cand *cand;      // the item's buckets in the order they are tried
    int ncand;
    int32 chosen;      // the bucket reserved from
    int64 free_after;  // on_hand - reserved of that bucket after the update
    bool has_alert;    // that bucket's alert_below is set (then in alert_below)
    int64 alert_below;
    int64 snapshot_free;  // striped: free units of all buckets in the first snapshot
    int64 due_units;      // units of the SKU's due claims under w->snap, when due_known
    bool due_known;       // due_claims counted them all and w->snap has not changed since
};

// Before open_write has made the slots, the executor state and the
// snapshot, those are null and skipped.
void close_write(Write *w) {
    close_all({w->bucket, w->bucket_new, w->reservation, w->claim},
              {w->buckets_rri, w->reservations_rri, w->claims_rri},
              {w->buckets_pkey, w->claims_pkey}, {w->claims, w->reservations, w->buckets},
              w->estate, w->snap);
}

// Whether the version in `slot`, just read under `snap`, is being updated
// by a transaction that was running when the snapshot was taken (and is not
// ours): an update of it now would almost surely find it busy. Only a hint
// for the order in which buckets are tried and whether trying without
// waiting is worth it; the update or the lock decides. Measured on the hot
// SKU (32 clients, 8 buckets): without it a reservation tried 6.3 buckets
// on average (5.7 of them busy), with it 0.65.
bool being_updated(TupleTableSlot *slot, Snapshot snap) {
    HeapTupleHeader h = reinterpret_cast<BufferHeapTupleTableSlot *>(slot)->base.tuple->t_data;
    uint16 mask = h->t_infomask;
    if ((mask & HEAP_XMAX_INVALID) || (mask & HEAP_XMAX_IS_MULTI) || HEAP_XMAX_IS_LOCKED_ONLY(mask))
        return false;
    TransactionId xmax = HeapTupleHeaderGetRawXmax(h);
    return TransactionIdIsNormal(xmax) && !TransactionIdIsCurrentTransactionId(xmax) &&
           XidInMVCCSnapshot(xmax, snap);
}

enum class Step { Unusable, NotPlaced, Go };

// The key of a SKU (a text Datum) in `space`, as lock_handle computes it.
uint64 sku_key(LockSpace space, Datum sku) {
    text *t = DatumGetTextPP(sku);
    return lock_key(space, VARDATA_ANY(t), static_cast<int>(VARSIZE_ANY_EXHDR(t)));
}

// The SKU's DueSweep lock (transaction-scoped), without waiting: the lock
// reserve.cpp's slow path takes with lock_handle(DueSweep, sku, false).
bool try_due_sweep(Datum sku) {
    return take_advisory(LockSpace::DueSweep, sku_key(LockSpace::DueSweep, sku), ExclusiveLock,
                         false);
}

// The SKU's claims past expiry (under w->snap), counted up to `limit`.
// When there are fewer, their units go to w->due_units (due_known), so
// that insert_claim need not read them again.
int due_claims(Write *w, int limit) {
    ScanKeyData k[2];
    key(&k[0], w->claims_pkey, 1, BTEqualStrategyNumber, F_TEXTEQ, w->sku);
    key(&k[1], w->claims_pkey, 2, BTLessEqualStrategyNumber, F_TIMESTAMPTZ_LE,
        TimestampTzGetDatum(w->now));
    IndexScanDesc scan = index_beginscan(w->claims, w->claims_pkey, w->snap, 2, 0);
    index_rescan(scan, k, 2, nullptr, 0);
    int n = 0;
    int64 units = 0;
    bool overflow = false;
    while (n < limit && index_getnext_slot(scan, ForwardScanDirection, w->claim)) {
        ++n;
        bool isnull = false;
        Datum q = slot_getattr(w->claim, w->c[C_QUANTITY], &isnull);
        if (!isnull && pg_add_s64_overflow(units, DatumGetInt64(q), &units)) overflow = true;
    }
    index_endscan(scan);
    ExecClearTuple(w->claim);
    w->due_units = units;
    w->due_known = n < limit && !overflow;
    return n;
}

// Opens everything, checks that the direct path may write these tables, and
// reads the item's buckets (w->cand, in the order they are tried).
Step open_write(Write *w) {
    if (!may_write_now() || !resolve()) return Step::Unusable;
    Relation buckets = try_table_open(cat.buckets, RowExclusiveLock);
    if (buckets == nullptr) {
        cat.valid = false;
        return Step::Unusable;
    }
    Relation reservations = table_open(cat.reservations, RowExclusiveLock);
    Relation claims = table_open(cat.claims, RowExclusiveLock);
    Relation buckets_pkey = index_open(cat.buckets_pkey, RowExclusiveLock);
    Relation claims_pkey = index_open(cat.claims_pkey, RowExclusiveLock);
    w->buckets = buckets;
    w->reservations = reservations;
    w->claims = claims;
    w->buckets_pkey = buckets_pkey;
    w->claims_pkey = claims_pkey;
    // Opening them processed pending invalidations: if one concerned these
    // tables (DDL committed meanwhile), the decision below may be stale, so
    // this call takes the SQL path and the next one decides again.
    if (!cat.valid) cat.write_ok = 0;
    if (cat.write_ok < 0) {
        AttrNumber *b = buckets_att, *r = res_att, *c = claims_att;
        cat.write_ok = buckets_shape(buckets, b) && shape(reservations, kReservations, true, r) &&
                       shape(claims, kClaims, true, c) &&
                       allowed(buckets, ACL_SELECT | ACL_UPDATE) &&
                       allowed(reservations, ACL_SELECT | ACL_INSERT) &&
                       allowed(claims, ACL_SELECT | ACL_INSERT) &&
                       defaults_as_created(reservations, kReservations, r) &&
                       defaults_as_created(claims, kClaims, c) && buckets_writable(buckets, b) &&
                       writable(reservations, false,
                                {r[R_PART_BUCKETS], r[R_PART_QTY], r[R_EXPIRES_IN], r[R_EXPIRES_AT],
                                 r[R_REASON]}) &&
                       writable(claims, false, {c[C_PART_BUCKETS], c[C_PART_QTY]}) &&
                       index_on(buckets_pkey, {b[B_SKU], b[B_BUCKET]}) &&
                       index_on(claims_pkey, {c[C_SKU], c[C_EXPIRES_AT], c[C_ID]});
    }
    memcpy(w->b, buckets_att, sizeof w->b);
    memcpy(w->r, res_att, sizeof w->r);
    memcpy(w->c, claims_att, sizeof w->c);
    if (cat.write_ok != 1) {
        close_write(w);
        return Step::Unusable;
    }
    WriteStart start = start_write();
    w->snap = start.snap;
    w->estate = start.estate;
    w->now = start.now;
    // The bucket indexes are needed only for a non-HOT update of a striped
    // item's bucket.
    w->buckets_rri = result_rel(buckets, w->nbuckets != 1);
    w->reservations_rri = result_rel(reservations, true);
    w->claims_rri = result_rel(claims, true);
    w->bucket = table_slot_create(buckets, nullptr);
    w->bucket_new = table_slot_create(buckets, nullptr);
    w->reservation = table_slot_create(reservations, nullptr);
    w->claim = table_slot_create(claims, nullptr);

    // More than kDueLimit claims of the SKU past expiry and not yet swept
    // (no sweeper, or expire_due not scheduled): the slow path expires them
    // all first (every bucket locked in order, rule (c)). Otherwise every
    // reservation of the SKU reads them all to count their units as
    // available (insert_claim): 210,000 due claims of a hot SKU made
    // reservations of it 22-51/s instead of ~5,000. One buyer per SKU at a
    // time (the DueSweep lock, taken only without waiting; no one ever
    // waits for it): the others go on meanwhile.
    if (due_claims(w, kDueLimit + 1) > kDueLimit && try_due_sweep(w->sku)) {
        close_write(w);
        return Step::NotPlaced;
    }

    // The buckets: one-bucket items only bucket 0; striped items all of
    // them, in the order core::tried_before gives.
    // A one-bucket item has one candidate: no need for set_stock's maximum.
    int cap = w->nbuckets == 1 ? 1 : kMaxBuckets;
    w->cand = static_cast<Cand *>(palloc(sizeof(Cand) * cap));
    ScanKeyData k[2];
    key(&k[0], buckets_pkey, 1, BTEqualStrategyNumber, F_TEXTEQ, w->sku);
    key(&k[1], buckets_pkey, 2, BTEqualStrategyNumber, F_INT4EQ, Int32GetDatum(0));
    int nkeys = w->nbuckets == 1 ? 2 : 1;
    IndexScanDesc scan = index_beginscan(buckets, buckets_pkey, w->snap, nkeys, 0);
    index_rescan(scan, k, nkeys, nullptr, 0);
    int64 sum = 0;
    while (w->ncand < cap && index_getnext_slot(scan, ForwardScanDirection, w->bucket)) {
        slot_getallattrs(w->bucket);
        int64 on_hand = DatumGetInt64(w->bucket->tts_values[w->b[B_ON_HAND] - 1]);
        int64 reserved = DatumGetInt64(w->bucket->tts_values[w->b[B_RESERVED] - 1]);
        int32 bucket = DatumGetInt32(w->bucket->tts_values[w->b[B_BUCKET] - 1]);
        int64 free_units = on_hand - reserved;
        sum += free_units;
        Cand &c = w->cand[w->ncand++];
        c.bucket = bucket;
        c.enough = core::BucketLevel{bucket, on_hand, reserved}.serves(w->quantity);
        c.busy = being_updated(w->bucket, w->snap);
        c.rank = core::spread_rank(bucket, w->offset, w->nbuckets);
        c.tid = w->bucket->tts_tid;
    }
    index_endscan(scan);
    ExecClearTuple(w->bucket);
    w->snapshot_free = sum;
    std::sort(w->cand, w->cand + w->ncand,
              [](const Cand &x, const Cand &y) { return core::tried_before(x, y); });
    return Step::Go;
}

Step prepare_locked(Write *w, int32 bucket);

// Reads candidate i into w->bucket: the version visible in w->snap, by the
// TID the first scan saw, or by its key when that version is no longer the
// visible one (the snapshot was renewed).
bool fetch_bucket(Write *w, int i) {
    const Cand &c = w->cand[i];
    ItemPointerData tid = c.tid;
    if (table_tuple_fetch_row_version(w->buckets, &tid, w->snap, w->bucket)) return true;
    ScanKeyData k[2];
    key(&k[0], w->buckets_pkey, 1, BTEqualStrategyNumber, F_TEXTEQ, w->sku);
    key(&k[1], w->buckets_pkey, 2, BTEqualStrategyNumber, F_INT4EQ, Int32GetDatum(c.bucket));
    return fetch_first(w->buckets, w->buckets_pkey, w->snap, k, 2, w->bucket);
}

// Reads candidate i (with `fresh`, under a new snapshot first: after a
// concurrent update) and prepares its new version in w->bucket_new.
// NotPlaced: the row is gone, or it has too few units (nothing is locked).
Step prepare(Write *w, int i, bool fresh) {
    if (fresh) {
        UnregisterSnapshot(w->snap);
        w->due_known = false;  // insert_claim reads the due claims again
        w->snap = RegisterSnapshot(GetLatestSnapshot());
        w->estate->es_snapshot = w->snap;
    }
    bool found = fetch_bucket(w, i);
    const Cand &c = w->cand[i];
    if (!found) return Step::NotPlaced;
    return prepare_locked(w, c.bucket);  // same guard; nothing is locked yet
}

// Updates the version in w->bucket to w->bucket_new, if no one changed it
// since it was read: the guard was evaluated on exactly the version
// updated. Without `wait`, a bucket another transaction holds is Busy (SKIP
// LOCKED); with it, the update waits for that transaction (at most
// lock_timeout) as UPDATE does. Changed: a concurrent update committed since
// the read; in READ COMMITTED the caller reads it again (EvalPlanQual's
// rule), in REPEATABLE READ and SERIALIZABLE it is a serialization failure.
RowResult update_bucket(Write *w, bool wait) {
    return update_version(w->buckets, w->buckets_rri, w->bucket, w->bucket_new, w->estate, w->snap,
                          wait, "a stock bucket");
}

// Waits for the lock of the bucket in w->bucket and locks it, as UPDATE
// does before it re-reads a changed row: in READ COMMITTED the newest version
// (which lands in w->bucket), otherwise a change since the snapshot is a
// serialization failure. NotPlaced: the row is gone.
Step lock_wait(Write *w) {
    return lock_newest(w->buckets, w->bucket, w->snap, "a stock bucket") == RowResult::Done
               ? Step::Go
               : Step::NotPlaced;
}

// The guard on the locked version in w->bucket and its new version in
// w->bucket_new. NotPlaced: too few units (the bucket stays locked).
Step prepare_locked(Write *w, int32 bucket) {
    slot_getallattrs(w->bucket);
    int64 on_hand = DatumGetInt64(w->bucket->tts_values[w->b[B_ON_HAND] - 1]);
    int64 reserved = DatumGetInt64(w->bucket->tts_values[w->b[B_RESERVED] - 1]);
    std::optional<core::BucketLevel> after =
        core::after_reserve(core::BucketLevel{bucket, on_hand, reserved}, w->quantity);
    if (!after) {
        ExecClearTuple(w->bucket);
        return Step::NotPlaced;
    }
    TupleTableSlot *n = w->bucket_new;
    start_version(w->bucket, n);
    n->tts_values[w->b[B_RESERVED] - 1] = Int64GetDatum(after->reserved);
    n->tts_values[w->b[B_UPDATED_AT] - 1] = TimestampTzGetDatum(w->now);
    ExecStoreVirtualTuple(n);
    w->chosen = bucket;
    w->free_after = after->available();
    w->has_alert = bucket_alert(w->bucket, w->b, &w->alert_below);
    return Step::Go;
}

// The reservation row, in w->reservation.
void build_reservation(Write *w) {
    TupleTableSlot *s = w->reservation;
    ExecClearTuple(s);
    int natts = RelationGetDescr(w->reservations)->natts;
    for (int i = 0; i < natts; ++i) s->tts_isnull[i] = true;
    auto set = [s](AttrNumber a, Datum v) {
        s->tts_values[a - 1] = v;
        s->tts_isnull[a - 1] = false;
    };
    Datum bucket = Int32GetDatum(w->chosen);
    Datum qty = Int64GetDatum(w->quantity);
    set(w->r[R_ID], Int64GetDatum(nextval_internal(cat.reservation_seq, false)));
    set(w->r[R_ORDER_REF], w->order_ref);
    set(w->r[R_SKU], w->sku);
    set(w->r[R_QUANTITY], qty);
    if (w->chosen != 0) {  // all units from bucket 0: the parts stay NULL
        set(w->r[R_PART_BUCKETS],
            PointerGetDatum(construct_array(&bucket, 1, INT4OID, 4, true, TYPALIGN_INT)));
        set(w->r[R_PART_QTY],
            PointerGetDatum(construct_array(&qty, 1, INT8OID, 8, true, TYPALIGN_DOUBLE)));
    }
    set(w->r[R_STATUS], CStringGetTextDatum("active"));
    if (w->has_ttl) {
        set(w->r[R_EXPIRES_IN], w->ttl);
        set(w->r[R_EXPIRES_AT],
            DirectFunctionCall2(timestamptz_pl_interval, TimestampTzGetDatum(w->now), w->ttl));
    }
    set(w->r[R_CREATED_AT], TimestampTzGetDatum(w->now));
    set(w->r[R_UPDATED_AT], TimestampTzGetDatum(w->now));
    ExecStoreVirtualTuple(s);
}

// Inserts the reservation, then builds its claim in w->claim.
void insert_reservation(Write *w) {
    insert_row(w->reservations, w->reservations_rri, w->reservation, w->estate);
    TupleTableSlot *r = w->reservation;
    TupleTableSlot *s = w->claim;
    ExecClearTuple(s);
    auto from = [r](AttrNumber a) { return r->tts_values[a - 1]; };
    int natts = RelationGetDescr(w->claims)->natts;
    for (int i = 0; i < natts; ++i) s->tts_isnull[i] = true;
    auto set = [s](AttrNumber a, Datum v) {
        s->tts_values[a - 1] = v;
        s->tts_isnull[a - 1] = false;
    };
    set(w->c[C_SKU], from(w->r[R_SKU]));
    set(w->c[C_EXPIRES_AT], w->has_ttl ? from(w->r[R_EXPIRES_AT]) : TimestampTzGetDatum(DT_NOEND));
    set(w->c[C_ID], from(w->r[R_ID]));
    set(w->c[C_QUANTITY], from(w->r[R_QUANTITY]));
    if (w->chosen != 0) {  // as the reservation's
        set(w->c[C_PART_BUCKETS], from(w->r[R_PART_BUCKETS]));
        set(w->c[C_PART_QTY], from(w->r[R_PART_QTY]));
    }
    ExecStoreVirtualTuple(s);
}

// Inserts the claim; returns the item's available units after the
// reservation: bucket 0's free units plus the units of the SKU's claims
// already past expiry (they count as available for every reader).
int64 insert_claim(Write *w) {
    insert_row(w->claims, w->claims_rri, w->claim, w->estate);
    // As the SQL path computes it: one bucket, its free units after the
    // update; striped, the snapshot's free units of all buckets minus this
    // reservation; then the units of the due claims.
    int64 available = w->nbuckets != 1 ? w->snapshot_free - w->quantity : w->free_after;
    // open_write's sum under the same snapshot (which, like a new scan, does
    // not see the claim just inserted); after a renewed snapshot, read them
    // again, all of them
    if (!w->due_known) (void)due_claims(w, INT_MAX);
    if (!w->due_known || pg_add_s64_overflow(available, w->due_units, &available))
        ereport(ERROR,
                (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE), errmsg("bigint out of range")));
    return available;
}

// The row check on the new version in w->bucket_new, then its update.
RowResult checked_update(Write *w, bool wait) {
    check_row_values(core::CheckedTable::StockBuckets, RelationGetDescr(w->buckets),
                     w->bucket_new->tts_values, w->bucket_new->tts_isnull);
    return pg_call([w, wait]() -> RowResult { return update_bucket(w, wait); });
}

enum class Try { Placed, Busy, TooFew };

// Candidate i without waiting and without a lock: the update of the version
// whose levels passed the guard, unless another transaction holds it (Busy,
// SKIP LOCKED) or changed it since it was read (then it is read again under
// a new snapshot, up to three times, then Busy). TooFew: the row is gone or
// has too few units; nothing is locked.
Try try_bucket(Write *w, int i) {
    for (int round = 0; round < 3; ++round) {
        Step s = pg_call([w, i, round]() -> Step { return prepare(w, i, round > 0); });
        if (s != Step::Go) return Try::TooFew;
        RowResult u = checked_update(w, false);
        if (u == RowResult::Done) return Try::Placed;
        if (u != RowResult::Changed) return Try::Busy;
    }
    return Try::Busy;
}

// The gate of one bucket of a striped item: a transaction-scoped exclusive
// lock in the extension's advisory space (LockSpace::BucketGate; the key is
// the SKU's lock_key plus the bucket number) that a buyer takes before
// it updates the bucket and keeps until its transaction ends, as it keeps
// the row lock. A buyer that finds every bucket held waits for ONE gate, and
// the lock manager hands that gate to the next waiter when its holder's
// transaction ends: the waiter sleeps once and then finds the row free,
// instead of queueing on the row's tuple lock and then on the holder's
// transaction ID (two sleeps and wakeups, plus a lock record in the WAL).
// Writers that take no gate (the statement path, commit and release,
// adjust_stock, expire_due) still meet the row lock. Measured on the hot SKU
// (docs/stock.md).
enum class GateOp { Try, Wait, Release };
bool gate(uint64 sku_key, int32 bucket, GateOp op) {
    uint64 key = sku_key + static_cast<uint64>(static_cast<uint32>(bucket));
    if (op == GateOp::Release) {
        LOCKTAG tag;
        advisory_tag(&tag, LockSpace::BucketGate, key);
        return LockRelease(&tag, ExclusiveLock, false);
    }
    if (op == GateOp::Wait) before_lock_wait();
    return take_advisory(LockSpace::BucketGate, key, ExclusiveLock, op == GateOp::Wait);
}

// A striped item (rule (b) in stock/reserve.cpp: a buyer waits for one bucket, and
// only while it holds no other bucket of the item). First, in w->cand's
// order, each bucket no one was updating when it was read whose gate is free
// (taken without waiting): the update without waiting (try_bucket); a bucket
// not placed in gives its gate back. Then, if the first candidate had enough
// units in the snapshot, its gate, waiting (at most lock_timeout), then its
// newest version, the guard and the update, which waits only for a writer
// that takes no gate. No row lock is ever taken that is not used; a gate
// that is not used is given back at once.
bool place_striped(Write *w) {
    uint64 key = pg_call([w] { return sku_key(LockSpace::BucketGate, w->sku); });
    for (int i = 0; i < w->ncand && !w->cand[i].busy; ++i) {
        int32 b = w->cand[i].bucket;
        if (!pg_call([key, b] { return gate(key, b, GateOp::Try); })) continue;
        if (try_bucket(w, i) == Try::Placed) return true;
        pg_call([key, b] { gate(key, b, GateOp::Release); });
    }
    if (w->ncand == 0 || !w->cand[0].enough) return false;
    int32 b = w->cand[0].bucket;
    pg_call([w, key, b] {
        ExecClearTuple(w->bucket);
        gate(key, b, GateOp::Wait);
    });
    // In READ COMMITTED under a new snapshot (the holder before us committed
    // after ours was taken); otherwise a change since the transaction's
    // snapshot is a serialization failure (update_bucket).
    bool fresh = !IsolationUsesXactSnapshot();
    for (;;) {
        Step s = pg_call([w, fresh]() -> Step { return prepare(w, 0, fresh); });
        if (s != Step::Go) break;
        if (checked_update(w, true) == RowResult::Done) return true;
        // Changed: a writer without a gate committed since the read.
    }
    pg_call([key, b] { gate(key, b, GateOp::Release); });
    return false;
}

}  // namespace

// ------------------------------------------------------------ entry points

int32 next_spread() {
    static uint32 counter = 0;
    return static_cast<int32>((static_cast<uint32>(MyProcPid) + counter++) & 0x3fffffff);
}

Probe probe(Datum order_ref, Datum sku) {
    if (!guc_enabled) return Probe{};
    return pg_call([order_ref, sku]() -> Probe {
        Probe p;
        if (!resolve()) return p;
        Relation items = try_table_open(cat.items, AccessShareLock);
        if (items == nullptr) {
            cat.valid = false;
            return p;
        }
        Relation items_pkey = index_open(cat.items_pkey, AccessShareLock);
        Relation res = table_open(cat.reservations, RowExclusiveLock);
        Relation res_key = index_open(cat.reservations_key, RowExclusiveLock);
        AttrNumber *ia = items_att, *ra = res_att;
        if (!cat.valid) cat.probe_ok = 0;  // invalidated while opening: see open_write
        if (cat.probe_ok < 0)
            cat.probe_ok = shape(items, kItems, false, ia) && shape(res, kReservations, true, ra) &&
                           allowed(items, ACL_SELECT) && allowed(res, ACL_SELECT) &&
                           index_on(items_pkey, {ia[I_SKU]}) &&
                           index_on(res_key, {ra[R_ORDER_REF], ra[R_SKU]});
        if (cat.probe_ok == 1) {
            CommandCounterIncrement();
            Snapshot snap = RegisterSnapshot(GetTransactionSnapshot());
            Datum sku_v = detoasted(sku), ref_v = detoasted(order_ref);
            ScanKeyData k[2];
            TupleTableSlot *slot = table_slot_create(items, nullptr);
            key(&k[0], items_pkey, 1, BTEqualStrategyNumber, F_TEXTEQ, sku_v);
            p.item = fetch_first(items, items_pkey, snap, k, 1, slot);
            if (p.item) {
                bool isnull = false;
                p.buckets = DatumGetInt32(slot_getattr(slot, ia[I_BUCKETS], &isnull));
                ExecDropSingleTupleTableSlot(slot);
                slot = table_slot_create(res, nullptr);
                key(&k[0], res_key, 1, BTEqualStrategyNumber, F_TEXTEQ, ref_v);
                key(&k[1], res_key, 2, BTEqualStrategyNumber, F_TEXTEQ, sku_v);
                p.replay = fetch_first(res, res_key, snap, k, 2, slot);
            }
            ExecDropSingleTupleTableSlot(slot);
            UnregisterSnapshot(snap);
            p.usable = true;
        }
        index_close(res_key, NoLock);
        table_close(res, NoLock);
        index_close(items_pkey, NoLock);
        table_close(items, NoLock);
        return p;
    });
}

Placed reserve(Datum sku, Datum order_ref, int64 quantity, bool has_ttl, Datum ttl, int32 buckets,
               int32 offset) {
    Placed out;
    if (!guc_enabled) return out;
    Write *w = pg_call([=]() -> Write * {
        Write *x = static_cast<Write *>(palloc0(sizeof(Write)));
        x->sku = detoasted(sku);
        x->order_ref = detoasted(order_ref);
        x->has_ttl = has_ttl;
        x->ttl = has_ttl ? ttl : Datum(0);
        x->quantity = quantity;
        x->nbuckets = buckets;
        x->offset = offset;
        return x;
    });
    Step s = pg_call([w]() -> Step { return open_write(w); });
    if (s == Step::Unusable) return out;
    out.usable = true;
    if (s == Step::NotPlaced) return out;  // due claims to expire first: the slow path

    // A one-bucket item: bucket 0 without waiting and without a lock (unless
    // someone was updating it when it was read, being_updated), then, if
    // another transaction holds it or too few units were visible, waiting
    // for its lock (rule (a) in stock/reserve.cpp): the lock of its newest version,
    // as UPDATE takes it, so waiters queue in order instead of retrying. A
    // striped item: place_striped.
    bool placed = false;
    auto start = std::chrono::steady_clock::now();
    if (w->nbuckets != 1) {
        placed = place_striped(w);
    } else if (w->ncand > 0) {
        if (!w->cand[0].busy) placed = try_bucket(w, 0) == Try::Placed;
        if (!placed) {
            pg_call([w] { ExecClearTuple(w->bucket); });
            // Lock (waiting) the newest version, then the guard on it, then
            // the update, which cannot fail while we hold it. Too few units
            // leave bucket 0 locked, which rule (a) allows.
            Step l = pg_call([w]() -> Step {
                if (!fetch_bucket(w, 0)) return Step::NotPlaced;
                Step r = lock_wait(w);
                return r == Step::Go ? prepare_locked(w, w->cand[0].bucket) : r;
            });
            if (l == Step::Go) {
                if (checked_update(w, true) != RowResult::Done)
                    throw core::Error(core::Code::Internal,
                                      "order_credit: a locked stock bucket changed");
                placed = true;
            }
        }
    }
    out.lock_wait_ms = ms_since(start);
    if (!placed) {
        pg_call([w] { close_write(w); });
        return out;
    }
    pg_call([w] { build_reservation(w); });
    check_row_values(core::CheckedTable::Reservations, RelationGetDescr(w->reservations),
                     w->reservation->tts_values, w->reservation->tts_isnull);
    pg_call([w] { insert_reservation(w); });
    check_row_values(core::CheckedTable::ReservationClaims, RelationGetDescr(w->claims),
                     w->claim->tts_values, w->claim->tts_isnull);
    Placed *o = &out;
    pg_call([w, o] {
        o->available = insert_claim(w);
        TupleTableSlot *r = w->reservation;
        o->reservation_id = DatumGetInt64(r->tts_values[w->r[R_ID] - 1]);
        o->expires_null = r->tts_isnull[w->r[R_EXPIRES_AT] - 1];
        o->expires_at =
            o->expires_null ? 0 : DatumGetTimestampTz(r->tts_values[w->r[R_EXPIRES_AT] - 1]);
        close_write(w);
    });
    // The threshold rule on the bucket's levels before and after (read and
    // updated under its row lock): a bucket without a threshold costs this test.
    if (w->has_alert)
        notify::stock_change(notify::text_view(w->sku), w->chosen, w->free_after + w->quantity,
                             w->free_after, w->alert_below);
    out.placed = true;
    return out;
}

}  // namespace oc::pg::direct
