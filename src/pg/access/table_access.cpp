// The table-access mechanics the direct writers share (stock reservations:
// stock/reserve_direct.cpp; expire_due's stock step: stock/expire_direct.cpp;
// credit holds and orders: credit/hold_direct.cpp): the checks that decide
// whether a table may be written without the executor, and reading, locking,
// updating and inserting rows as the executor's simple-relation helpers do.
// Every function here may ereport and is called inside pg_call.
#include <cstring>

#include "pg/access/table_access.hpp"
#include "pg/settings.hpp"

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

bool guc_enabled = true;

namespace detail {

// The index's key columns are exactly these table columns, it has no
// expression and no predicate.
bool index_on(Relation index, std::initializer_list<AttrNumber> atts) {
    Form_pg_index ix = index->rd_index;
    if (ix->indnkeyatts != static_cast<int>(atts.size())) return false;
    if (!heap_attisnull(index->rd_indextuple, Anum_pg_index_indexprs, nullptr) ||
        !heap_attisnull(index->rd_indextuple, Anum_pg_index_indpred, nullptr))
        return false;
    int i = 0;
    for (AttrNumber a : atts)
        if (ix->indkey.values[i++] != a) return false;
    return true;
}

const char *column_default(Relation rel, AttrNumber att) {
    TupleDesc d = RelationGetDescr(rel);
    if (!TupleDescAttr(d, att - 1)->atthasdef) return nullptr;
    for (int i = 0; d->constr != nullptr && i < d->constr->num_defval; ++i) {
        const AttrDefault &def = d->constr->defval[i];
        if (def.adnum == att)
            return TextDatumGetCString(
                DirectFunctionCall2(pg_get_expr, CStringGetTextDatum(def.adbin),
                                    ObjectIdGetDatum(RelationGetRelid(rel))));
    }
    return "";  // a default the relcache does not hold: not as created
}

bool find_relations(std::initializer_list<std::pair<Oid *, const char *>> relations) {
    Oid nsp = get_namespace_oid("order_credit", true);
    if (!OidIsValid(nsp)) return false;
    for (const auto &[oid, name] : relations) {
        *oid = get_relname_relid(name, nsp);
        if (!OidIsValid(*oid)) return false;
    }
    return true;
}

void on_watched_relcache(Datum arg, Oid relid) {
    Watched *w = reinterpret_cast<Watched *>(DatumGetPointer(arg));
    if (!*w->valid) return;
    for (int i = 0; i < w->n && relid != InvalidOid; ++i)
        if (w->oids[i] == relid) relid = InvalidOid;
    if (relid == InvalidOid) *w->valid = false;
}

// Any change of a function (the row check's function may have been
// replaced: is_row_check), of a role or of role membership (privileges:
// allowed) makes the next call decide again. Such DDL is rare.
void on_watched_proc(Datum arg, int, uint32) {
    *reinterpret_cast<Watched *>(DatumGetPointer(arg))->valid = false;
}

bool find_watched(Watched *w, bool *valid,
                  std::initializer_list<std::pair<Oid *, const char *>> relations) {
    if (relations.size() > sizeof w->oids / sizeof w->oids[0]) return false;
    if (!w->registered) {
        w->valid = valid;
        CacheRegisterRelcacheCallback(on_watched_relcache, PointerGetDatum(w));
        CacheRegisterSyscacheCallback(PROCOID, on_watched_proc, PointerGetDatum(w));
        CacheRegisterSyscacheCallback(AUTHOID, on_watched_proc, PointerGetDatum(w));
        CacheRegisterSyscacheCallback(AUTHMEMROLEMEM, on_watched_proc, PointerGetDatum(w));
        w->registered = true;
    }
    if (!find_relations(relations)) return false;
    w->n = 0;
    for (const auto &r : relations) w->oids[w->n++] = *r.first;
    return true;
}

// Whether foreign key `conoid` is on exactly column `att` of its table.
bool fk_on(Oid conoid, AttrNumber att) {
    HeapTuple tup = SearchSysCache1(CONSTROID, ObjectIdGetDatum(conoid));
    if (!HeapTupleIsValid(tup)) return false;
    bool isnull = false;
    Datum d = SysCacheGetAttr(CONSTROID, tup, Anum_pg_constraint_conkey, &isnull);
    bool ok = false;
    if (!isnull) {
        ArrayType *arr = DatumGetArrayTypeP(d);
        ok = ARR_NDIM(arr) == 1 && ARR_DIMS(arr)[0] == 1 && !ARR_HASNULL(arr) &&
             ARR_ELEMTYPE(arr) == INT2OID && reinterpret_cast<int16 *>(ARR_DATA_PTR(arr))[0] == att;
    }
    ReleaseSysCache(tup);
    return ok;
}

// A plain heap table as CREATE TABLE makes it: not a partition (the
// executor would check the partition constraint), the heap access method
// (being_updated reads heap tuple headers), no row-level security, no rule
// (the rewriter would apply or refuse it).
bool plain_heap(Relation rel) {
    Form_pg_class c = rel->rd_rel;
    return c->relkind == RELKIND_RELATION && !c->relispartition && c->relam == HEAP_TABLE_AM_OID &&
           !c->relrowsecurity && rel->rd_rules == nullptr;
}

// Whether an UPDATE (`cmd`) or DELETE of `rel` passes CheckCmdReplicaIdentity,
// decided as it decides (the same publication descriptor, kept by the
// relcache): the row filters' and column lists' columns are in the replica
// identity, and a table whose publications publish the command has an
// identity index or REPLICA IDENTITY FULL. When it would not pass, the SQL
// path runs and its statement raises the error.
bool replica_identity_ok(Relation rel, CmdType cmd) {
    PublicationDesc pub;
    RelationBuildPublicationDesc(rel, &pub);
    bool update = cmd == CMD_UPDATE;
    if (!(update ? pub.rf_valid_for_update : pub.rf_valid_for_delete)) return false;
    if (!(update ? pub.cols_valid_for_update : pub.cols_valid_for_delete)) return false;
    if (!(update ? pub.pubactions.pubupdate : pub.pubactions.pubdelete)) return true;
    return OidIsValid(RelationGetReplicaIndex(rel)) ||
           rel->rd_rel->relreplident == REPLICA_IDENTITY_FULL;
}

// Whether `check` is the row check the install script gives `rel`:
// CHECK (order_credit._row_valid(<rel>)) over the whole row, the function
// being the extension's C function, which the current user may execute.
// Compared as expressions (equal() ignores parse locations), not by name:
// a constraint replaced under the same name with another expression is not
// the rule check_row_values enforces. Chosen over evaluating the table's
// CHECK constraints with the executor: decided once per relcache validity,
// it costs nothing per call, and the C++ check stays the one that raises.
bool is_row_check(Relation rel, const ConstrCheck *check) {
    Oid rowtype = rel->rd_rel->reltype;
    List *name = list_make2(makeString(pstrdup("order_credit")), makeString(pstrdup("_row_valid")));
    Oid fn = LookupFuncName(name, 1, &rowtype, true);
    if (!OidIsValid(fn) || check->ccbin == nullptr) return false;
    Var *row = makeVar(1, InvalidAttrNumber, rowtype, -1, InvalidOid, 0);
    FuncExpr *want =
        makeFuncExpr(fn, BOOLOID, list_make1(row), InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
    if (!equal(want, stringToNode(check->ccbin))) return false;
    HeapTuple tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(fn));
    if (!HeapTupleIsValid(tup)) return false;
    Form_pg_proc p = reinterpret_cast<Form_pg_proc>(GETSTRUCT(tup));
    // (the executor checks EXECUTE on every function of an expression)
    bool ok = p->prolang == ClanguageId && p->prorettype == BOOLOID && !p->proretset &&
              pg_proc_aclcheck(fn, GetUserId(), ACL_EXECUTE) == ACLCHECK_OK;
    if (ok) {
        bool isnull = false;
        Datum src = SysCacheGetAttr(PROCOID, tup, Anum_pg_proc_prosrc, &isnull);
        ok = !isnull && strcmp(TextDatumGetCString(src), "oc_row_valid") == 0;
    }
    ReleaseSysCache(tup);
    return ok;
}

// Rows may be written here without the executor: a plain heap table
// (plain_heap), its replica identity enough for an update (as
// CheckCmdReplicaIdentity decides), no stored generated column, no NOT NULL
// on a column the writer may leave NULL (`may_be_null`: the executor's
// error carries the row, this path's would not), exactly its one row check
// (is_row_check; with `row_check` false, no CHECK constraint at all), and no
// trigger that the write would fire, except non-deferrable foreign-key
// triggers whose check PostgreSQL itself would skip or that the caller makes
// redundant: for an update that keeps the key, the referenced side's; for an
// insert, the referencing side's check of column `fk_att` against
// `fk_parent`, whose referenced row the caller has locked (updated) in this
// transaction.
bool writable(Relation rel, bool update, std::initializer_list<AttrNumber> may_be_null,
              bool row_check, Oid fk_parent, AttrNumber fk_att) {
    if (!plain_heap(rel)) return false;
    if (update && !replica_identity_ok(rel, CMD_UPDATE)) return false;
    TupleDesc d = RelationGetDescr(rel);
    for (AttrNumber a : may_be_null)
        if (TupleDescAttr(d, a - 1)->attnotnull) return false;
    TupleConstr *c = d->constr;
    if (c != nullptr && c->has_generated_stored) return false;
    int checks = c == nullptr ? 0 : c->num_check;
    if (checks != (row_check ? 1 : 0)) return false;
    if (row_check && !is_row_check(rel, &c->check[0])) return false;
    TriggerDesc *t = rel->trigdesc;
    for (int i = 0; t != nullptr && i < t->numtriggers; ++i) {
        const Trigger *g = &t->triggers[i];
        bool fires = update ? TRIGGER_FOR_UPDATE(g->tgtype) : TRIGGER_FOR_INSERT(g->tgtype);
        if (!fires) continue;
        if (g->tgdeferrable) return false;
        int kind = RI_FKey_trigger_type(g->tgfoid);
        if (update && kind != RI_TRIGGER_NONE) continue;
        if (!update && kind == RI_TRIGGER_FK && OidIsValid(fk_parent) &&
            g->tgconstrrelid == fk_parent && fk_on(g->tgconstraint, fk_att))
            continue;
        return false;
    }
    return true;
}

bool allowed(Relation rel, AclMode modes) {
    return pg_class_aclmask(RelationGetRelid(rel), GetUserId(), modes, ACLMASK_ALL) == modes;
}

bool may_write_now() {
    return !XactReadOnly && !IsInParallelMode();
}

WriteStart start_write() {
    CommandCounterIncrement();
    WriteStart w;
    w.snap = RegisterSnapshot(GetTransactionSnapshot());
    w.estate = CreateExecutorState();
    w.estate->es_snapshot = w.snap;
    w.estate->es_output_cid = GetCurrentCommandId(true);
    w.now = GetCurrentStatementStartTimestamp();
    return w;
}

// NOT NULL, as ExecConstraints raises it.
void check_not_null(Relation rel, TupleTableSlot *slot) {
    TupleDesc d = RelationGetDescr(rel);
    for (int i = 0; i < d->natts; ++i) {
        Form_pg_attribute a = TupleDescAttr(d, i);
        if (a->attnotnull && slot->tts_isnull[i])
            ereport(ERROR,
                    (errcode(ERRCODE_NOT_NULL_VIOLATION),
                     errmsg("null value in column \"%s\" of relation \"%s\" violates not-null "
                            "constraint",
                            NameStr(a->attname), RelationGetRelationName(rel)),
                     errtablecol(rel, i + 1)));
    }
}

// A scan key on index column `col` with the index's own collation (the
// btree descends with it).
void key(ScanKey k, Relation index, AttrNumber col, StrategyNumber strategy, RegProcedure proc,
         Datum value) {
    ScanKeyEntryInitialize(k, 0, col, strategy, InvalidOid, index->rd_indcollation[col - 1], proc,
                           value);
}

// The first row of an index scan, into `slot`.
bool fetch_first(Relation heap, Relation index, Snapshot snap, ScanKey keys, int nkeys,
                 TupleTableSlot *slot) {
    IndexScanDesc scan = index_beginscan(heap, index, snap, nkeys, 0);
    index_rescan(scan, keys, nkeys, nullptr, 0);
    bool found = index_getnext_slot(scan, ForwardScanDirection, slot);
    index_endscan(scan);
    return found;
}

Datum detoasted(Datum d) {
    return PointerGetDatum(
        pg_detoast_datum_packed(reinterpret_cast<struct varlena *>(DatumGetPointer(d))));
}

ResultRelInfo *result_rel(Relation rel, bool with_indexes) {
    // No range table entry (index 0): ExecGetUpdatedCols then reports no
    // updated column, which is right for the updates here (a bucket's or an
    // account's key columns never change), so a non-HOT update passes the
    // "index unchanged" hint.
    ResultRelInfo *rri = makeNode(ResultRelInfo);
    InitResultRelInfo(rri, rel, 0, nullptr, 0);
    if (with_indexes) ExecOpenIndices(rri, false);
    return rri;
}

// A row changed or deleted by a transaction that committed after the
// snapshot: in REPEATABLE READ and SERIALIZABLE the serialization failure
// UPDATE raises; in READ COMMITTED the caller reads the row again.
void refuse_in_xact_snapshot(TM_Result r) {
    if (IsolationUsesXactSnapshot())
        ereport(ERROR, (errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
                        errmsg("could not serialize access due to concurrent %s",
                               r == TM_Updated ? "update" : "delete")));
}

RowResult update_version(Relation rel, ResultRelInfo *rri, TupleTableSlot *old,
                         TupleTableSlot *updated, EState *estate, Snapshot snap, bool wait,
                         const char *what) {
    check_not_null(rel, updated);
    TM_FailureData tmfd;
    LockTupleMode lockmode;
    bool update_indexes = false;
    auto update = [&](bool wait_now) {
        return table_tuple_update(rel, &old->tts_tid, updated, GetCurrentCommandId(true), snap,
                                  InvalidSnapshot, wait_now, &tmfd, &lockmode, &update_indexes);
    };
    // Without waiting first: only a wait needs the call's lock_timeout.
    TM_Result r = update(false);
    if (r == TM_BeingModified && wait) {
        before_lock_wait();
        r = update(true);
    }
    switch (r) {
        case TM_Ok:
            if (update_indexes) {
                if (rri->ri_IndexRelationDescs == nullptr) ExecOpenIndices(rri, false);
                ExecInsertIndexTuples(rri, updated, estate, true, false, nullptr, NIL);
            }
            return RowResult::Done;
        case TM_BeingModified:
        case TM_WouldBlock:
            return RowResult::Busy;
        case TM_Updated:
        case TM_Deleted:
            refuse_in_xact_snapshot(r);
            return RowResult::Changed;
        default:
            elog(ERROR, "order_credit: unexpected result %d updating %s", static_cast<int>(r),
                 what);
    }
    return RowResult::Busy;
}

RowResult lock_newest(Relation rel, TupleTableSlot *slot, Snapshot snap, const char *what,
                      bool wait) {
    TM_FailureData tmfd;
    ItemPointerData tid = slot->tts_tid;
    auto lock = [&](LockWaitPolicy policy) {
        return table_tuple_lock(
            rel, &tid, snap, slot, GetCurrentCommandId(false), LockTupleNoKeyExclusive, policy,
            IsolationUsesXactSnapshot() ? 0 : TUPLE_LOCK_FLAG_FIND_LAST_VERSION, &tmfd);
    };
    // Without waiting first: only a wait needs the call's lock_timeout.
    TM_Result r = lock(LockWaitSkip);
    if (r == TM_WouldBlock && wait) {
        before_lock_wait();
        tid = slot->tts_tid;
        r = lock(LockWaitBlock);
    }
    switch (r) {
        case TM_Ok:
            return RowResult::Done;
        case TM_WouldBlock:
            return RowResult::Busy;
        case TM_Updated:
        case TM_Deleted:
            refuse_in_xact_snapshot(r);
            ExecClearTuple(slot);
            return RowResult::Changed;
        default:
            elog(ERROR, "order_credit: unexpected result %d locking %s", static_cast<int>(r), what);
    }
    return RowResult::Changed;
}

void start_version(TupleTableSlot *old, TupleTableSlot *updated) {
    int natts = old->tts_tupleDescriptor->natts;
    ExecClearTuple(updated);
    memcpy(updated->tts_values, old->tts_values, sizeof(Datum) * natts);
    memcpy(updated->tts_isnull, old->tts_isnull, sizeof(bool) * natts);
}

void close_all(std::initializer_list<TupleTableSlot *> slots,
               std::initializer_list<ResultRelInfo *> rris, std::initializer_list<Relation> indexes,
               std::initializer_list<Relation> tables, EState *estate, Snapshot snap) {
    for (TupleTableSlot *s : slots)
        if (s != nullptr) ExecDropSingleTupleTableSlot(s);
    for (ResultRelInfo *rri : rris)
        if (rri != nullptr && rri->ri_IndexRelationDescs != nullptr) ExecCloseIndices(rri);
    for (Relation r : indexes)
        if (r != nullptr) index_close(r, NoLock);
    for (Relation r : tables)
        if (r != nullptr) table_close(r, NoLock);
    if (estate != nullptr) FreeExecutorState(estate);
    if (snap != nullptr) UnregisterSnapshot(snap);
}

void insert_row(Relation rel, ResultRelInfo *rri, TupleTableSlot *slot, EState *estate) {
    check_not_null(rel, slot);
    table_tuple_insert(rel, slot, estate->es_output_cid, 0, nullptr);
    ExecInsertIndexTuples(rri, slot, estate, false, false, nullptr, NIL);
}

}  // namespace detail

}  // namespace oc::pg::direct
