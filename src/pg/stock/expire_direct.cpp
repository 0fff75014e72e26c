// expire_due's stock step without the executor (stock/expire_direct.hpp,
// expire_claims), on the mechanics of access/table_access.hpp: what
// S_expire_stock_batch of stock/stock.cpp does, without the statement's
// executor start-up per call and its joins and aggregate per claim, which
// cost more than the work itself.
//
// The rules are the statement's: due claims in expires_at order (the
// partial index reservation_claims_due), never a wait (buckets locked with
// SKIP LOCKED semantics, claims deleted without waiting), a claim deleted
// only while every bucket of its parts is locked by us, and each bucket's
// reserved lowered by the parts of the claims actually deleted. A claim
// that another transaction deleted after our snapshot (commit, release, a
// re-stripe; each of them held the claim's buckets while it did) is
// skipped, as the statement's DELETE skips it.
//
// Used in READ COMMITTED only, and only while the tables are as created
// (stock/reserve_direct.cpp's rules; a claim delete must fire no trigger and no rule).
// Otherwise, or with direct_access = off, the statement runs.
//
// Every PostgreSQL call is made inside pg_call; the row checks (C++) run
// between them.
#include <algorithm>
#include <cstring>

#include "core/error.hpp"
#include "core/row_checks.hpp"
#include "pg/access/table_access.hpp"
#include "pg/stock/expire_direct.hpp"
#include "pg/guard.hpp"
#include "pg/notify.hpp"
#include "pg/row_checks.hpp"

extern "C" {
#include "access/htup_details.h"
#include "access/syncscan.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_am.h"
#include "catalog/pg_index.h"
#include "catalog/pg_trigger.h"
#include "common/int.h"
#include "common/pg_prng.h"
#include "storage/bufmgr.h"
#include "utils/array.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
}

namespace oc::pg::direct {

bool scan_floor = false;
int guc_expire_scan = ExpireScanAuto;

namespace {

using namespace detail;

// ------------------------------------------------------------ catalog cache

// As in stock/reserve_direct.cpp: OIDs resolved by name once per backend, forgotten on a
// relcache invalidation of any of them, the shape decision with them.
struct Catalog {
    bool valid;
    Oid user;  // the decisions below are this user's (privileges)
    Oid claims, claims_due, buckets, buckets_pkey;
    int write_ok;  // -1 not decided yet, 0 no, 1 yes
};
Catalog cat{};
Watched watched{};

// Where the sweeper's due scan starts (it calls expire_due several times a
// second for its whole life; direct::scan_floor).
//
// A due claim, once deleted, stays in reservation_claims_due as a dead
// entry until VACUUM removes it; a scan from the start of the index walks
// past every one of them (kill_prior_tuple spares it the heap visit, not
// the leaf pages), and the sweeper's chunks each start a scan, so an idle
// call's cost grows with the dead entries in front (docs/stock.md). So a call that deleted every
// due claim it read, in expiry order, up to some point records that point, and the next call starts
// there: every claim before it is gone or was not yet visible to it (a
// reservation committed late by a long transaction, with a short expiry).
// For those, and for anything else the floor could pass, the scan starts
// from the beginning again at least once a second (kFullScanEveryUs). The
// floor moves only when the transaction that deleted the claims commits (a
// rolled-back sweep leaves them due). Readers never depend on the sweep
// (expiry is exact on read): a claim the floor passes only keeps its units
// in `reserved` until the next scan from the beginning.
struct Floor {
    Oid claims;  // of this reservation_claims (DROP EXTENSION: a new one)
    bool valid;
    TimestampTz at;            // scans start at expires_at >= at
    TimestampTz full_scan_at;  // when the last scan from the beginning ran
    bool pending;              // set by this transaction, applied at its commit
    TimestampTz pending_at;
    bool pending_full_scan;
    TimestampTz pending_scan_at;
    SubTransactionId pending_subxact;
};
Floor floor_{};
constexpr int64 kFullScanEveryUs = 1000000;  // 1 s
bool xact_callback_registered = false;

void on_xact(XactEvent event, void *) {
    if (!floor_.pending) return;
    if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT) {
        floor_.at = floor_.pending_at;
        floor_.valid = true;
        if (floor_.pending_full_scan) floor_.full_scan_at = floor_.pending_scan_at;
        floor_.pending = false;
    } else if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT) {
        floor_.pending = false;
    }
}

// A floor set inside a subtransaction that rolls back is dropped.
void on_subxact(SubXactEvent event, SubTransactionId sub, SubTransactionId, void *) {
    if (floor_.pending && event == SUBXACT_EVENT_ABORT_SUB && sub == floor_.pending_subxact)
        floor_.pending = false;
}

bool resolve() {
    if (cat.valid && cat.user == GetUserId()) return true;
    Catalog c{};
    if (!find_watched(&watched, &cat.valid,
                      {{&c.claims, "reservation_claims"},
                       {&c.claims_due, "reservation_claims_due"},
                       {&c.buckets, "stock_buckets"},
                       {&c.buckets_pkey, "stock_buckets_pkey"}}))
        return false;
    c.write_ok = -1;
    c.user = GetUserId();
    c.valid = true;
    cat = c;
    return true;
}

// ------------------------------------------------------------ table shapes

// Only the columns read (a claim is read and deleted); stock_buckets:
// kBuckets (access/table_access.hpp).
const Col kClaims[] = {{"sku", TEXTOID},
                       {"expires_at", TIMESTAMPTZOID},
                       {"quantity", INT8OID},
                       {"part_buckets", INT4ARRAYOID},
                       {"part_qty", INT8ARRAYOID}};
enum { C_SKU, C_EXPIRES_AT, C_QUANTITY, C_PART_BUCKETS, C_PART_QTY, C_N };

AttrNumber claims_att[C_N], buckets_att[B_N];

// Rows of `rel` may be deleted here: a plain heap table (plain_heap: no
// rule, not a partition, no row-level security), its replica identity
// enough for a delete (as CheckCmdReplicaIdentity decides), and no trigger
// that a DELETE fires (a foreign key referencing it would be one).
bool deletable(Relation rel) {
    if (!plain_heap(rel) || !replica_identity_ok(rel, CMD_DELETE)) return false;
    TriggerDesc *t = rel->trigdesc;
    for (int i = 0; t != nullptr && i < t->numtriggers; ++i)
        if (TRIGGER_FOR_DELETE(t->triggers[i].tgtype)) return false;
    return true;
}

// A btree whose one key column is `att`, without expressions. A predicate
// is allowed (the extension's is expires_at < 'infinity', which a scan for
// expires_at <= now never needs to look past); one that leaves out due
// claims (the index re-created by hand) would hide them from the sweep
// only: readers still count them expired (expiry is exact on read) and
// their units stay consistently in `reserved` until a sweep deletes them.
bool btree_on(Relation index, AttrNumber att) {
    Form_pg_index ix = index->rd_index;
    return index->rd_rel->relam == BTREE_AM_OID && ix->indnkeyatts == 1 &&
           ix->indkey.values[0] == att &&
           heap_attisnull(index->rd_indextuple, Anum_pg_index_indexprs, nullptr);
}

// ------------------------------------------------------------ the sweep

// The heap pass (see expire_claims): the claims table in block order,
// chunk by chunk, from where the last pass of any backend stopped (the
// synchronized-scan position PostgreSQL keeps per table in shared memory)
// round the table once at most.
struct Heap {
    bool on;                 // this call reads due claims from here
    TableScanDesc scan;      // one TID range scan, rescanned per chunk
    BlockNumber nblocks;     // the table's size when the call began
    BlockNumber next;        // the next chunk's first block
    BlockNumber left;        // blocks of this cycle not yet in a chunk
    BlockNumber last_block;  // of the last claim read
    bool chunk_open;
};

// A due claim as the scan read it (copied out of its buffer).
struct Due {
    ItemPointerData tid;
    TimestampTz expires_at;
    int seq;  // scan order
    text *sku;
    int nparts;
    int32 *bucket;
    int64 *qty;
};

// A bucket this round needs: its lock, and what the deleted claims give
// back to it.
struct Need {
    int32 bucket;
    bool locked;
    ItemPointerData tid;  // the locked (newest) version
    int64 give_back;
};

struct Sweep {
    Snapshot scan_snap;  // the due scan's
    Snapshot snap;       // this round's (bucket lookups)
    EState *estate;
    TimestampTz now;
    // The bucket prepare_bucket read: its free units before and its threshold.
    int64 free_before;
    bool has_alert;
    int64 alert_below;
    Relation claims, claims_due, buckets, buckets_pkey;
    ResultRelInfo *buckets_rri;
    IndexScanDesc scan;         // the due scan in index (expiry) order, or
    Heap heap;                  // the heap pass
    IndexScanDesc bucket_scan;  // this round's bucket lookups, under snap (one
                                // scan rescanned per bucket: a scan begun and
                                // ended per lookup cost ~a quarter of a sweep)
    TupleTableSlot *claim, *bucket, *bucket_new;
    MemoryContext round_cxt;  // reset every round
    bool scan_done;
    bool full_scan;          // from the beginning of the index (no floor)
    bool kept;               // some claim read was left in place
    TimestampTz first_kept;  // the earliest of those
    TimestampTz last_read;   // expires_at of the last claim read

    Due *due;  // this round's claims, sorted by SKU
    int ndue;
    Need *need;  // the current SKU's buckets, sorted
    int nneed;
    int64 expired;
};

void close_sweep(Sweep *s) {
    if (s->heap.scan != nullptr) table_endscan(s->heap.scan);
    if (s->scan != nullptr) index_endscan(s->scan);
    if (s->bucket_scan != nullptr) index_endscan(s->bucket_scan);
    if (s->round_cxt != nullptr) MemoryContextDelete(s->round_cxt);
    if (s->snap != nullptr) UnregisterSnapshot(s->snap);
    close_all({s->claim, s->bucket, s->bucket_new}, {s->buckets_rri},
              {s->claims_due, s->buckets_pkey}, {s->claims, s->buckets}, s->estate, s->scan_snap);
}

// The due scan in expiry order (reservation_claims_due), from the floor
// when the sweeper has one.
void start_index(Sweep *s) {
    s->full_scan = !scan_floor || !floor_.valid ||
                   s->now - floor_.full_scan_at >= kFullScanEveryUs || floor_.at > s->now;
    ScanKeyData k[2];
    key(&k[0], s->claims_due, 1, BTLessEqualStrategyNumber, F_TIMESTAMPTZ_LE,
        TimestampTzGetDatum(s->now));
    key(&k[1], s->claims_due, 1, BTGreaterEqualStrategyNumber, F_TIMESTAMPTZ_GE,
        TimestampTzGetDatum(floor_.at));
    int nkeys = s->full_scan ? 1 : 2;
    s->scan = index_beginscan(s->claims, s->claims_due, s->scan_snap, nkeys, 0);
    index_rescan(s->scan, k, nkeys, nullptr, 0);
}

// The heap pass. Expiry is random with respect to where claims are stored,
// so the due scan in expiry order visits about one table page per due
// claim, and deleting it visits the page again; with a backlog (a sweeper
// that was down, a burst of abandoned carts) many claims on a page are
// due, and one pass in block order visits each page once for all of them.
// In auto it is chosen
// when kSamplePages pages picked at random hold at least one due claim in
// kDueShare of the claims they hold: below that, reading the live claims
// costs more than the index's page visit per due claim. The sample decides,
// not the yield of the pass so far: a pass crossing pages an earlier pass
// emptied would give up on a backlog that is still there. Small calls use
// the index, and so does the sweeper (scan_floor): reservations fall due
// for it a few at a time, in expiry order, which is the index's order (and
// its floor spares it the dead entries); heap passes would read the pages
// of live claims round the table again and again to find them.
constexpr int64 kHeapMinBudget = 1000;
constexpr BlockNumber kHeapMinBlocks = 256;
constexpr BlockNumber kHeapChunk = 64;  // blocks per TID range; a multiple of
                                        // the 16 at which positions are shared
constexpr int kSamplePages = 32;
constexpr int64 kDueShare = 16;  // at least 1 due claim in 16

// Opens the TID range scan the heap pass reads with (no range yet).
TableScanDesc begin_tidrange(Sweep *s) {
    ItemPointerData lo, hi;
    ItemPointerSet(&lo, 0, FirstOffsetNumber);
    ItemPointerSet(&hi, 0, FirstOffsetNumber);
    return table_beginscan_tidrange(s->claims, s->scan_snap, &lo, &hi);
}

// Whether the claims of kSamplePages random pages (as the call's snapshot
// sees them) are due in at least 1 of kDueShare.
bool backlog(Sweep *s, BlockNumber nblocks) {
    TableScanDesc scan = begin_tidrange(s);
    int64 seen = 0, due = 0;
    for (int i = 0; i < kSamplePages; ++i) {
        BlockNumber b =
            static_cast<BlockNumber>(pg_prng_uint64_range(&pg_global_prng_state, 0, nblocks - 1));
        ItemPointerData lo, hi;
        ItemPointerSet(&lo, b, FirstOffsetNumber);
        ItemPointerSet(&hi, b, MaxOffsetNumber);
        table_rescan_tidrange(scan, &lo, &hi);
        while (table_scan_getnextslot_tidrange(scan, ForwardScanDirection, s->claim)) {
            ++seen;
            bool isnull = false;
            Datum at = slot_getattr(s->claim, claims_att[C_EXPIRES_AT], &isnull);
            if (!isnull && DatumGetTimestampTz(at) <= s->now) ++due;
        }
    }
    ExecClearTuple(s->claim);
    table_endscan(scan);
    return seen > 0 && due * kDueShare >= seen;
}

bool use_heap(Sweep *s, int64 budget) {
    if (guc_expire_scan == ExpireScanIndex) return false;
    if (guc_expire_scan == ExpireScanHeap) return true;
    if (scan_floor || budget < kHeapMinBudget) return false;
    BlockNumber nblocks = RelationGetNumberOfBlocks(s->claims);
    return nblocks >= kHeapMinBlocks && backlog(s, nblocks);
}

void start_heap(Sweep *s) {
    Heap *h = &s->heap;
    h->on = true;
    // (after the snapshot: every claim it sees is in one of these blocks)
    h->nblocks = RelationGetNumberOfBlocks(s->claims);
    h->left = h->nblocks;
    h->next = h->nblocks == 0 ? 0 : ss_get_location(s->claims, h->nblocks) % h->nblocks;
    h->next -= h->next % 16;
    h->scan = begin_tidrange(s);
    h->chunk_open = false;
}

// The next due claim of the heap pass into s->claim; false when the pass
// has been round the table (s->scan_done).
bool next_heap_claim(Sweep *s) {
    Heap *h = &s->heap;
    const AttrNumber *c = claims_att;
    for (;;) {
        if (h->chunk_open) {
            if (table_scan_getnextslot_tidrange(h->scan, ForwardScanDirection, s->claim)) {
                bool isnull = false;
                Datum at = slot_getattr(s->claim, c[C_EXPIRES_AT], &isnull);
                if (isnull || DatumGetTimestampTz(at) > s->now) continue;
                h->last_block = ItemPointerGetBlockNumber(&s->claim->tts_tid);
                return true;
            }
            h->chunk_open = false;
            // (shared only at multiples of 16 blocks, and only when the
            // lock is free: a later pass may start a little behind)
            ss_report_location(s->claims, h->next);
        }
        if (h->left == 0) {
            s->scan_done = true;
            return false;
        }
        BlockNumber first = h->next;
        BlockNumber n = std::min({kHeapChunk, h->left, h->nblocks - first});
        ItemPointerData lo, hi;
        ItemPointerSet(&lo, first, FirstOffsetNumber);
        ItemPointerSet(&hi, first + n - 1, MaxOffsetNumber);
        table_rescan_tidrange(h->scan, &lo, &hi);
        h->chunk_open = true;
        h->left -= n;
        h->next = (first + n) % h->nblocks;
    }
}

// The next due claim into s->claim, from the heap pass or the index scan.
bool next_claim(Sweep *s) {
    if (s->heap.on) return next_heap_claim(s);
    return index_getnext_slot(s->scan, ForwardScanDirection, s->claim);
}

// Opens everything and starts the due scan. False: the statement must do
// it (nothing was done).
bool open_sweep(Sweep *s, int64 budget) {
    if (!may_write_now() || !resolve()) return false;
    Relation claims = try_table_open(cat.claims, RowExclusiveLock);
    if (claims == nullptr) {
        cat.valid = false;
        return false;
    }
    s->claims = claims;
    s->buckets = table_open(cat.buckets, RowExclusiveLock);
    s->claims_due = index_open(cat.claims_due, AccessShareLock);
    s->buckets_pkey = index_open(cat.buckets_pkey, AccessShareLock);
    // Opening them processed pending invalidations: a decision made before
    // a concurrent DDL may be stale (see stock/reserve_direct.cpp's open_write).
    if (!cat.valid) cat.write_ok = 0;
    if (cat.write_ok < 0) {
        AttrNumber *c = claims_att, *b = buckets_att;
        cat.write_ok = shape(s->claims, kClaims, false, c) && buckets_shape(s->buckets, b) &&
                       allowed(s->claims, ACL_SELECT | ACL_DELETE) &&
                       allowed(s->buckets, ACL_SELECT | ACL_UPDATE) && deletable(s->claims) &&
                       buckets_writable(s->buckets, b) &&
                       btree_on(s->claims_due, c[C_EXPIRES_AT]) &&
                       index_on(s->buckets_pkey, {b[B_SKU], b[B_BUCKET]});
    }
    if (cat.write_ok != 1) {
        close_sweep(s);
        return false;
    }
    WriteStart start = start_write();
    s->scan_snap = start.snap;
    s->estate = start.estate;
    s->now = start.now;
    s->buckets_rri = result_rel(s->buckets, false);
    s->claim = table_slot_create(s->claims, nullptr);
    s->bucket = table_slot_create(s->buckets, nullptr);
    s->bucket_new = table_slot_create(s->buckets, nullptr);
    s->round_cxt = AllocSetContextCreate(CurrentMemoryContext, "order_credit expire round",
                                         ALLOCSET_DEFAULT_SIZES);
    if (floor_.claims != cat.claims) {
        floor_ = Floor{};
        floor_.claims = cat.claims;
    }
    if (!xact_callback_registered) {
        RegisterXactCallback(on_xact, nullptr);
        RegisterSubXactCallback(on_subxact, nullptr);
        xact_callback_registered = true;
    }
    if (use_heap(s, budget))
        start_heap(s);
    else
        start_index(s);
    return true;
}

int sku_cmp(const text *a, const text *b) {
    int la = VARSIZE_ANY_EXHDR(a), lb = VARSIZE_ANY_EXHDR(b);
    int r = memcmp(VARDATA_ANY(a), VARDATA_ANY(b), std::min(la, lb));
    return r != 0 ? r : (la > lb) - (la < lb);
}

// The parts of a claim, copied; false when the arrays are not two
// one-dimensional arrays of the same length without NULLs (the row check
// refuses such claims; one that got there anyway is left to verify()).
// Both NULL: one part, all `quantity` units from bucket 0.
bool copy_parts(TupleTableSlot *claim, Due *d) {
    const bool *isnull = claim->tts_isnull;
    const Datum *v = claim->tts_values;
    const AttrNumber *c = claims_att;
    bool nb = isnull[c[C_PART_BUCKETS] - 1], nq = isnull[c[C_PART_QTY] - 1];
    if (nb != nq || isnull[c[C_QUANTITY] - 1]) return false;
    if (nb) {
        d->nparts = 1;
        d->bucket = static_cast<int32 *>(palloc(sizeof(int32)));
        d->qty = static_cast<int64 *>(palloc(sizeof(int64)));
        d->bucket[0] = 0;
        d->qty[0] = DatumGetInt64(v[c[C_QUANTITY] - 1]);
        return true;
    }
    Datum buckets_d = v[c[C_PART_BUCKETS] - 1], qty_d = v[c[C_PART_QTY] - 1];
    ArrayType *b = DatumGetArrayTypeP(buckets_d);
    ArrayType *q = DatumGetArrayTypeP(qty_d);
    if (ARR_NDIM(b) != 1 || ARR_NDIM(q) != 1 || ARR_HASNULL(b) || ARR_HASNULL(q) ||
        ARR_ELEMTYPE(b) != INT4OID || ARR_ELEMTYPE(q) != INT8OID ||
        ARR_DIMS(b)[0] != ARR_DIMS(q)[0] || ARR_DIMS(b)[0] < 1)
        return false;
    d->nparts = ARR_DIMS(b)[0];
    d->bucket = static_cast<int32 *>(palloc(sizeof(int32) * d->nparts));
    d->qty = static_cast<int64 *>(palloc(sizeof(int64) * d->nparts));
    memcpy(d->bucket, ARR_DATA_PTR(b), sizeof(int32) * d->nparts);
    memcpy(d->qty, ARR_DATA_PTR(q), sizeof(int64) * d->nparts);
    return true;
}

// A claim read stays in place: the floor may not pass it.
void keep(Sweep *s, TimestampTz at) {
    if (!s->kept || at < s->first_kept) s->first_kept = at;
    s->kept = true;
}

// Reads up to `limit` due claims into this round (sorted by SKU, then in
// expiry order); returns how many the scan gave (malformed ones included).
int read_round(Sweep *s, int limit) {
    MemoryContextReset(s->round_cxt);
    MemoryContext old = MemoryContextSwitchTo(s->round_cxt);
    s->due = static_cast<Due *>(palloc(sizeof(Due) * limit));
    s->ndue = 0;
    int read = 0;
    while (read < limit && !s->scan_done) {
        if (!next_claim(s)) {
            s->scan_done = true;
            break;
        }
        ++read;
        slot_getallattrs(s->claim);
        const AttrNumber *c = claims_att;
        if (s->claim->tts_isnull[c[C_EXPIRES_AT] - 1])
            continue;  // not from the scan's keys: cannot happen
        TimestampTz at = DatumGetTimestampTz(s->claim->tts_values[c[C_EXPIRES_AT] - 1]);
        if (!s->heap.on) s->last_read = at;  // (the floor is a position in the index)
        Due *d = &s->due[s->ndue];
        d->tid = s->claim->tts_tid;
        d->seq = s->ndue;
        d->expires_at = at;
        if (s->claim->tts_isnull[c[C_SKU] - 1] || !copy_parts(s->claim, d)) {
            keep(s, at);  // malformed: left to verify()
            continue;
        }
        d->sku = DatumGetTextPCopy(s->claim->tts_values[c[C_SKU] - 1]);
        ++s->ndue;
    }
    ExecClearTuple(s->claim);
    // (std::sort: nothing here may throw or allocate with operator new)
    std::sort(s->due, s->due + s->ndue, [](const Due &x, const Due &y) {
        int c = sku_cmp(x.sku, y.sku);
        return c != 0 ? c < 0 : x.seq < y.seq;
    });
    MemoryContextSwitchTo(old);
    // A new command and snapshot for the round: a bucket this call already
    // updated is found (and locked) in its new version.
    CommandCounterIncrement();
    if (s->bucket_scan != nullptr) index_endscan(s->bucket_scan);
    s->bucket_scan = nullptr;
    if (s->snap != nullptr) UnregisterSnapshot(s->snap);
    s->snap = RegisterSnapshot(GetTransactionSnapshot());
    s->estate->es_output_cid = GetCurrentCommandId(true);
    s->bucket_scan = index_beginscan(s->buckets, s->buckets_pkey, s->snap, 2, 0);
    return read;
}

// The buckets that claims [from, to) of the round need, each locked if no
// one holds it (its newest version; a row that is gone stays unlocked).
void lock_buckets(Sweep *s, int from, int to) {
    MemoryContext old = MemoryContextSwitchTo(s->round_cxt);
    int cap = 0;
    for (int i = from; i < to; ++i) cap += s->due[i].nparts;
    s->need = static_cast<Need *>(palloc(sizeof(Need) * cap));
    s->nneed = 0;
    for (int i = from; i < to; ++i)
        for (int p = 0; p < s->due[i].nparts; ++p)
            s->need[s->nneed++] = Need{s->due[i].bucket[p], false, {}, 0};
    MemoryContextSwitchTo(old);
    std::sort(s->need, s->need + s->nneed,
              [](const Need &x, const Need &y) { return x.bucket < y.bucket; });
    s->nneed = static_cast<int>(
        std::unique(s->need, s->need + s->nneed,
                    [](const Need &x, const Need &y) { return x.bucket == y.bucket; }) -
        s->need);
    Datum sku = PointerGetDatum(s->due[from].sku);
    for (int i = 0; i < s->nneed; ++i) {
        Need *n = &s->need[i];
        ScanKeyData k[2];
        key(&k[0], s->buckets_pkey, 1, BTEqualStrategyNumber, F_TEXTEQ, sku);
        key(&k[1], s->buckets_pkey, 2, BTEqualStrategyNumber, F_INT4EQ, Int32GetDatum(n->bucket));
        index_rescan(s->bucket_scan, k, 2, nullptr, 0);
        if (!index_getnext_slot(s->bucket_scan, ForwardScanDirection, s->bucket)) continue;
        // SKIP LOCKED: a bucket another transaction holds (Busy) or that is
        // gone (Changed) stays unlocked
        if (lock_newest(s->buckets, s->bucket, s->snap, "a stock bucket", false) ==
            RowResult::Done) {
            n->locked = true;
            n->tid = s->bucket->tts_tid;
        }
        ExecClearTuple(s->bucket);
    }
}

Need *find_need(Sweep *s, int32 bucket) {
    Need *e = s->need + s->nneed;
    Need *n =
        std::lower_bound(s->need, e, bucket, [](const Need &x, int32 b) { return x.bucket < b; });
    return n != e && n->bucket == bucket ? n : nullptr;
}

// Deletes the claims [from, to) whose buckets are all locked (never
// waiting: a claim another transaction deleted since the scan is skipped)
// and adds their parts to what their buckets get back.
void delete_claims(Sweep *s, int from, int to) {
    for (int i = from; i < to; ++i) {
        Due *d = &s->due[i];
        bool all = true;
        for (int p = 0; p < d->nparts && all; ++p) {
            Need *n = find_need(s, d->bucket[p]);
            all = n != nullptr && n->locked;
        }
        if (!all) {
            keep(s, d->expires_at);
            continue;
        }
        TM_FailureData tmfd;
        TM_Result r = table_tuple_delete(s->claims, &d->tid, GetCurrentCommandId(true), s->snap,
                                         InvalidSnapshot, false, &tmfd, false);
        if (r != TM_Ok) {
            // deleted by a transaction that committed since the scan: gone;
            // being deleted by one still running: it may roll back
            if (r != TM_Updated && r != TM_Deleted) keep(s, d->expires_at);
            continue;
        }
        ++s->expired;
        for (int p = 0; p < d->nparts; ++p) {
            Need *n = find_need(s, d->bucket[p]);
            if (pg_add_s64_overflow(n->give_back, d->qty[p], &n->give_back))
                ereport(ERROR, (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
                                errmsg("bigint out of range")));
        }
    }
}

// The new version of locked bucket `n` in s->bucket_new (reserved lowered
// by what it gets back), its current one in s->bucket.
void prepare_bucket(Sweep *s, const Need *n) {
    ItemPointerData tid = n->tid;
    if (!table_tuple_fetch_row_version(s->buckets, &tid, SnapshotAny, s->bucket))
        elog(ERROR, "order_credit: a locked stock bucket is gone");
    slot_getallattrs(s->bucket);
    int64 reserved = DatumGetInt64(s->bucket->tts_values[buckets_att[B_RESERVED] - 1]);
    s->free_before = DatumGetInt64(s->bucket->tts_values[buckets_att[B_ON_HAND] - 1]) - reserved;
    s->has_alert = bucket_alert(s->bucket, buckets_att, &s->alert_below);
    int64 next = 0;
    if (pg_sub_s64_overflow(reserved, n->give_back, &next))
        ereport(ERROR,
                (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE), errmsg("bigint out of range")));
    TupleTableSlot *x = s->bucket_new;
    start_version(s->bucket, x);
    x->tts_values[buckets_att[B_RESERVED] - 1] = Int64GetDatum(next);
    x->tts_values[buckets_att[B_UPDATED_AT] - 1] = TimestampTzGetDatum(s->now);
    ExecStoreVirtualTuple(x);
}

}  // namespace

Expired expire_claims(int64 budget) {
    Expired out;
    if (!guc_enabled || budget <= 0) return out;
    Sweep *s = pg_call([budget]() -> Sweep * {
        if (IsolationUsesXactSnapshot()) return nullptr;
        Sweep *x = static_cast<Sweep *>(palloc0(sizeof(Sweep)));
        return open_sweep(x, budget) ? x : nullptr;
    });
    if (s == nullptr) return out;
    out.usable = true;
    // Rounds of at most kRound claims: memory stays bounded whatever the
    // budget (~100 bytes a claim), and a SKU's buckets are locked and
    // updated once per round (measured on 1,000 SKUs: with 1,024-claim
    // rounds a 10,000-claim call looked up and updated ~6,500 buckets).
    constexpr int64 kRound = 16384;
    int64 left = budget;
    while (left > 0) {
        int limit = static_cast<int>(std::min(left, kRound));
        int read = pg_call([s, limit] { return read_round(s, limit); });
        left -= read;
        for (int from = 0; from < s->ndue;) {
            int to = from + 1;
            while (to < s->ndue && sku_cmp(s->due[to].sku, s->due[from].sku) == 0) ++to;
            pg_call([s, from, to] {
                lock_buckets(s, from, to);
                delete_claims(s, from, to);
            });
            for (int i = 0; i < s->nneed; ++i) {
                const Need *n = &s->need[i];
                if (!n->locked || n->give_back == 0) continue;
                pg_call([s, n] { prepare_bucket(s, n); });
                check_row_values(core::CheckedTable::StockBuckets, RelationGetDescr(s->buckets),
                                 s->bucket_new->tts_values, s->bucket_new->tts_isnull);
                RowResult u = pg_call([s]() -> RowResult {
                    // `wait`: heap_update reports a row locked by us as busy
                    // unless it may wait; we hold the lock, so it never waits.
                    RowResult r =
                        update_version(s->buckets, s->buckets_rri, s->bucket, s->bucket_new,
                                       s->estate, s->snap, true, "a stock bucket");
                    ExecClearTuple(s->bucket);
                    return r;
                });
                if (u != RowResult::Done)
                    throw core::Error(core::Code::Internal,
                                      "order_credit: a locked stock bucket changed");
                if (s->has_alert)  // the threshold rule, as every writer of a bucket
                    notify::stock_change(notify::text_view(PointerGetDatum(s->due[from].sku)),
                                         n->bucket, s->free_before, s->free_before + n->give_back,
                                         s->alert_below);
            }
            from = to;
        }
        if (s->scan_done)  // (a round reads `limit` claims unless the scan ran out)
            break;
    }
    out.expired = s->expired;
    out.heap = s->heap.on;
    pg_call([s] {
        // The floor for the next call, applied when this transaction
        // commits: the earliest claim left in place, else (every claim read
        // was handled) the last one read or, when the scan ran out, now.
        // A heap pass that ran out of budget: what it left is anywhere in
        // expiry order, so the floor stays as it is; the next pass of any
        // backend starts about here.
        if (s->heap.on && !s->scan_done) {
            BlockNumber b = s->heap.last_block;
            ss_report_location(s->claims, b - b % 16);
        } else {
            TimestampTz next = s->kept ? s->first_kept : s->scan_done ? s->now : s->last_read;
            // (a scan from the beginning earlier in this transaction stays
            // recorded as the last one)
            if (!floor_.pending) floor_.pending_full_scan = false;
            if (s->full_scan) {
                floor_.pending_full_scan = true;
                floor_.pending_scan_at = s->now;
            }
            floor_.pending = true;
            floor_.pending_at = next;
            floor_.pending_subxact = GetCurrentSubTransactionId();
        }
        close_sweep(s);
    });
    return out;
}

}  // namespace oc::pg::direct
