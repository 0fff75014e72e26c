// Direct table access: the table-access mechanics of the writers that
// bypass SQL (stock/reserve_direct, stock/expire_direct, credit/hold_direct).
// Every function here may ereport and must be called inside pg_call.
//
// Why: a statement pays executor start-up, plan-cache revalidation and the
// CHECK text's re-read on every call, most of a short write's cost; the
// executor's own ExecSimpleRelationInsert costs 14-39% more instructions
// per call than these writers (CHECK expressions compiled per call, one SPI
// query per foreign key; docs/benchmarks.md, "Instructions per call").
//
// The writers do the same work with the table access method and the
// indexes directly, as PostgreSQL's logical replication apply does: rows are
// found through their unique indexes under a fresh snapshot (the snapshot a
// statement would take), a row is locked with table_tuple_lock (in READ
// COMMITTED the newest version, as UPDATE's EvalPlanQual does; in
// REPEATABLE READ or SERIALIZABLE a concurrent update is 40001), the guard
// is evaluated on the locked version, and the new rows go through
// table_tuple_insert / simple_table_tuple_update + ExecInsertIndexTuples
// (unique checks, partial indexes). The table's rules are enforced by the
// same row check as its CHECK constraint (pg/row_checks.hpp), and NOT NULL
// by the columns' attnotnull.
//
// It is used only while every table it writes is exactly as the extension
// created it: a plain heap table (not a partition, the heap access method,
// no row-level security, no rule), the expected columns and types, the one
// row check with the install script's expression, the column defaults as
// created, no NOT NULL on a column left NULL, the owner's privileges that
// the statements would check, no trigger on the written event other than non-deferrable
// foreign-key triggers that cannot fail, a replica identity that
// CheckCmdReplicaIdentity accepts for the update or delete; and only in a
// transaction that may write (not read-only, not parallel). Anything else
// (or order_credit.direct_access = off) and the callers use the SQL path,
// which does the same thing through the executor (docs/DEVELOPING.md lists
// the cases).
#pragma once

#include <cstring>
#include <initializer_list>
#include <utility>

#include "pg/pg.hpp"

extern "C" {
#include "access/genam.h"
#include "access/skey.h"
#include "access/tableam.h"
#include "executor/executor.h"
#include "utils/rel.h"
}

namespace oc::pg::direct {

extern bool guc_enabled;  // order_credit.direct_access

}  // namespace oc::pg::direct

namespace oc::pg::direct::detail {

// A column the direct path reads or writes: its name and type and, for a
// table it inserts into, its default as the install script creates it (as
// pg_get_expr shows it; null: none).
struct Col {
    const char *name;
    Oid type;
    const char *def = nullptr;
};

constexpr const char *kNow = "statement_timestamp()";

// stock_buckets, written by the reservation (stock/reserve_direct.cpp) and by the sweep
// (stock/expire_direct.cpp).
inline constexpr Col kBuckets[] = {{"sku", TEXTOID},
                                   {"bucket", INT4OID},
                                   {"on_hand", INT8OID},
                                   {"reserved", INT8OID},
                                   {"updated_at", TIMESTAMPTZOID},
                                   {"alert_below", INT8OID}};
enum BucketCol { B_SKU, B_BUCKET, B_ON_HAND, B_RESERVED, B_UPDATED_AT, B_ALERT_BELOW, B_N };

// Attribute numbers of `cols` in `rel` (types checked). With `exact`, the
// table must have no other live column (so a row written here has no
// column left to a default this code does not know).
template <size_t N>
bool shape(Relation rel, const Col (&cols)[N], bool exact, AttrNumber *att) {
    TupleDesc d = RelationGetDescr(rel);
    int live = 0;
    for (int i = 0; i < d->natts; ++i)
        if (!TupleDescAttr(d, i)->attisdropped) ++live;
    if (exact && live != static_cast<int>(N)) return false;
    for (size_t c = 0; c < N; ++c) {
        att[c] = InvalidAttrNumber;
        for (int i = 0; i < d->natts; ++i) {
            Form_pg_attribute a = TupleDescAttr(d, i);
            if (a->attisdropped || strcmp(NameStr(a->attname), cols[c].name) != 0) continue;
            if (a->atttypid != cols[c].type) return false;
            att[c] = static_cast<AttrNumber>(i + 1);
        }
        if (att[c] == InvalidAttrNumber) return false;
    }
    return true;
}

// Column `att`'s default as pg_get_expr shows it; null: none.
const char *column_default(Relation rel, AttrNumber att);

// Each of `cols` (at `att`) has the default the install script gives it:
// the SQL statements leave some columns to their defaults, which this path
// writes itself.
template <size_t N>
bool defaults_as_created(Relation rel, const Col (&cols)[N], const AttrNumber *att) {
    for (size_t c = 0; c < N; ++c) {
        const char *have = column_default(rel, att[c]);
        const char *want = cols[c].def;
        if ((have == nullptr) != (want == nullptr)) return false;
        if (have != nullptr && strcmp(have, want) != 0) return false;
    }
    return true;
}

// The OIDs of these relations of the extension's schema (each pointer
// filled in turn); false when the schema or any of them is missing.
bool find_relations(std::initializer_list<std::pair<Oid *, const char *>> relations);

// A backend's cache of relation OIDs (each direct path keeps one):
// `*valid` is cleared by a relcache invalidation of any of the OIDs found
// last, or of all relations (DDL, VACUUM's statistics update, DROP
// EXTENSION, publications, privileges), by any change of a function (the
// row checks' functions), a role or a role membership, and the next call
// resolves them again. Each cache also keeps the user its decisions were
// made for (privileges) and resolves again for another.
struct Watched {
    bool *valid;
    Oid oids[12];
    int n;
    bool registered;
};

// find_relations, the OIDs remembered in `w` for the invalidation callback
// (registered at the first call).
bool find_watched(Watched *w, bool *valid,
                  std::initializer_list<std::pair<Oid *, const char *>> relations);

// The index's key columns are exactly these table columns, it has no
// expression and no predicate.
bool index_on(Relation index, std::initializer_list<AttrNumber> atts);

// A plain heap table: not a partition, heap access method, no row-level
// security, no rule.
bool plain_heap(Relation rel);

// Whether an UPDATE or DELETE (`cmd`) of `rel` passes
// CheckCmdReplicaIdentity (without raising).
bool replica_identity_ok(Relation rel, CmdType cmd);

// Whether rows of `rel` may be written without the executor (see the
// definition for the rules; `may_be_null` the columns the writer may leave
// NULL; `fk_parent`/`fk_att` name the one foreign key whose insert check
// the caller makes redundant).
bool writable(Relation rel, bool update, std::initializer_list<AttrNumber> may_be_null,
              bool row_check = true, Oid fk_parent = InvalidOid,
              AttrNumber fk_att = InvalidAttrNumber);

// stock_buckets in either version: 1.1's columns, or 1.0's (a database not
// updated yet: no alert_below, att[B_ALERT_BELOW] is then InvalidAttrNumber).
inline constexpr Col kBuckets_v1_0[] = {{"sku", TEXTOID},
                                        {"bucket", INT4OID},
                                        {"on_hand", INT8OID},
                                        {"reserved", INT8OID},
                                        {"updated_at", TIMESTAMPTZOID}};
inline bool buckets_shape(Relation rel, AttrNumber *att) {
    if (shape(rel, kBuckets, true, att)) return true;
    att[B_ALERT_BELOW] = InvalidAttrNumber;
    return shape(rel, kBuckets_v1_0, true, att);
}
inline bool buckets_writable(Relation rel, const AttrNumber *att) {
    return att[B_ALERT_BELOW] != InvalidAttrNumber ? writable(rel, true, {att[B_ALERT_BELOW]})
                                                   : writable(rel, true, {});
}
// A bucket row's share of its item's alert threshold (the row's attributes
// fetched into `slot`; `att` as buckets_shape filled it): true and the share
// in *alert_below when it has one, false for none or a 1.0 table.
inline bool bucket_alert(TupleTableSlot *slot, const AttrNumber *att, int64 *alert_below) {
    bool has = att[B_ALERT_BELOW] != InvalidAttrNumber && !slot->tts_isnull[att[B_ALERT_BELOW] - 1];
    *alert_below = has ? DatumGetInt64(slot->tts_values[att[B_ALERT_BELOW] - 1]) : 0;
    return has;
}

// The current user (a writer's owner: the functions are SECURITY DEFINER)
// holds all of `modes` on `rel`, as the SQL statements' privilege check
// requires (a superuser always does); otherwise that check raises.
bool allowed(Relation rel, AclMode modes);

// The transaction may write here: not read-only (a standby, SET TRANSACTION
// READ ONLY), not in parallel mode. Otherwise the SQL path runs and raises
// what the executor raises.
bool may_write_now();

// The start of a direct write, as a statement starts: a new command (this
// call's earlier writes become visible), the snapshot a statement would
// take (registered), an executor state with it and the write's command id,
// and the statement's time.
struct WriteStart {
    Snapshot snap;
    EState *estate;
    TimestampTz now;
};
WriteStart start_write();

// NOT NULL, as ExecConstraints raises it.
void check_not_null(Relation rel, TupleTableSlot *slot);

// A scan key on index column `col` with the index's own collation.
void key(ScanKey k, Relation index, AttrNumber col, StrategyNumber strategy, RegProcedure proc,
         Datum value);

// The first row of an index scan, into `slot`.
bool fetch_first(Relation heap, Relation index, Snapshot snap, ScanKey keys, int nkeys,
                 TupleTableSlot *slot);

Datum detoasted(Datum d);

// A result relation without a range-table entry (see the definition).
ResultRelInfo *result_rel(Relation rel, bool with_indexes);

// A row changed or deleted by a transaction that committed after the
// snapshot: 40001 in REPEATABLE READ and SERIALIZABLE; in READ COMMITTED
// it returns and the caller reads the row again.
void refuse_in_xact_snapshot(TM_Result r);

// What updating or locking a row version found.
enum class RowResult {
    Done,     // updated / locked
    Busy,     // another transaction holds it (only without waiting)
    Changed,  // changed or deleted by a transaction that committed since it
              // was read (READ COMMITTED; otherwise 40001 was raised)
};

// Updates the version in `old` to `updated`, as UPDATE does: NOT NULL
// checked, the version read is the one changed; with `wait`, waits for a
// transaction that holds it (at most lock_timeout), without, reports Busy;
// new index entries when the update is not HOT (opening the indexes if
// `rri` has none open). `what` names the row in an unexpected-result error.
RowResult update_version(Relation rel, ResultRelInfo *rri, TupleTableSlot *old,
                         TupleTableSlot *updated, EState *estate, Snapshot snap, bool wait,
                         const char *what);

// Waits for the row lock of the version in `slot` and takes it, as UPDATE
// does before it re-reads a changed row: in READ COMMITTED the newest
// version lands in `slot`; otherwise a change since the snapshot is 40001.
// Changed: the row is gone (`slot` cleared). Without `wait` (SKIP LOCKED),
// a row another transaction holds is Busy.
RowResult lock_newest(Relation rel, TupleTableSlot *slot, Snapshot snap, const char *what,
                      bool wait = true);

// Starts the new version of the row in `old` (all its attributes read) in
// `updated`: the same values, for the caller to change some of them and
// store (ExecStoreVirtualTuple).
void start_version(TupleTableSlot *old, TupleTableSlot *updated);

// The end of a direct write: drops the slots, closes the result
// relations' indexes, then the indexes and tables (locks kept to the end of
// the transaction, as the executor keeps them), the executor state and the
// snapshot. Null slots and relations are skipped.
void close_all(std::initializer_list<TupleTableSlot *> slots,
               std::initializer_list<ResultRelInfo *> rris, std::initializer_list<Relation> indexes,
               std::initializer_list<Relation> tables, EState *estate, Snapshot snap);

// NOT NULL check, heap insert, index entries (unique checks, partial
// indexes).
void insert_row(Relation rel, ResultRelInfo *rri, TupleTableSlot *slot, EState *estate);

}  // namespace oc::pg::direct::detail
