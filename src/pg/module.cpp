// Module entry: magic block, GUCs, small helpers (default TTL, ledger guard
// trigger) and the error-boundary self test.
#include <new>
#include <stdexcept>

#include "core/error.hpp"
#include "pg/common.hpp"
#include "pg/expiry/purge.hpp"
#include "pg/access/table_access.hpp"
#include "pg/stock/expire_direct.hpp"
#include "pg/guard.hpp"
#include "pg/notify.hpp"

extern "C" {
#include "storage/ipc.h"
PG_MODULE_MAGIC;
void _PG_init(void);
}

namespace oc::pg {
int guc_lock_timeout_ms = 2000;
int guc_default_ttl_s = 900;
void register_sweepers();
int guc_idempotency_ttl_s = 86400;
int guc_event_retention_s = 604800;
int guc_expire_max_rate = 75000;
int guc_max_named_locks = 64;
int guc_max_lease_s = 86400;
int guc_max_idempotency_lease_s = 86400;
int guc_lease_retention_s = 86400;
int guc_finished_retention_s = 2592000;
}  // namespace oc::pg

using namespace oc::pg;

namespace {
shmem_request_hook_type prev_shmem_request_hook = nullptr;
shmem_startup_hook_type prev_shmem_startup_hook = nullptr;

void oc_shmem_request() {
    if (prev_shmem_request_hook) prev_shmem_request_hook();
    stats::request_shmem();
}

void oc_shmem_startup() {
    if (prev_shmem_startup_hook) prev_shmem_startup_hook();
    stats::startup_shmem();
}
}  // namespace

void _PG_init(void) {
    DefineCustomIntVariable("order_credit.lock_timeout",
                            "Longest wait for a row or advisory lock inside order_credit calls.",
                            "After this wait a call raises 55P03 (lock_not_available); 0 waits "
                            "forever.",
                            &guc_lock_timeout_ms, 2000, 0, INT_MAX, PGC_USERSET, GUC_UNIT_MS,
                            nullptr, nullptr, nullptr);
    DefineCustomBoolVariable(
        "order_credit.direct_access",
        "Reserve stock of one-bucket items through the table access method "
        "directly.",
        "On (the default), reserve_stock writes the bucket, the reservation and "
        "its claim without the executor while the tables are as the extension "
        "created them; off runs the same work as SQL statements. Both enforce "
        "the same rules.",
        &direct::guc_enabled, true, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomBoolVariable("order_credit.notify_orders",
                             "Notify channel order_credit_orders of every order status change.",
                             "Off (the default) sends nothing. Set it where the writers run: per "
                             "database or role (ALTER DATABASE/ROLE ... SET, which the sweeper's "
                             "expiries also follow), or per session. Payload: {\"order_ref\", "
                             "\"from\", \"to\"}, delivered when the transaction commits.",
                             &notify::guc_orders, false, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    static const config_enum_entry expire_scan_options[] = {
        {"auto", direct::ExpireScanAuto, false},
        {"index", direct::ExpireScanIndex, false},
        {"heap", direct::ExpireScanHeap, false},
        {nullptr, 0, false}};
    DefineCustomEnumVariable("order_credit.expire_scan",
                             "How expire_due() finds due stock reservations.",
                             "auto (the default) reads the table in block order when a sample of "
                             "it shows a backlog of due reservations, else in expiry order through "
                             "the due index; index and heap force one. Only with direct_access.",
                             &direct::guc_expire_scan, direct::ExpireScanAuto, expire_scan_options,
                             PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("order_credit.expire_max_rate",
                            "Most rows per second a session's expire_due() calls expire together.",
                            "A call that follows another one of the same session in a new "
                            "transaction first waits until the earlier calls' rows fit this rate "
                            "(at most 1 s), so a backlog swept in many calls does not flood the "
                            "buyers' commits with WAL. A single call is never paused; 0 disables "
                            "the pacing.",
                            &guc_expire_max_rate, 75000, 0, INT_MAX, PGC_USERSET, 0, nullptr,
                            nullptr, nullptr);
    DefineCustomIntVariable("order_credit.default_ttl",
                            "Expiry of holds and reservations when expires_in is not given.",
                            nullptr, &guc_default_ttl_s, 900, 1, INT_MAX, PGC_USERSET, GUC_UNIT_S,
                            nullptr, nullptr, nullptr);
    DefineCustomIntVariable("order_credit.sweep_interval",
                            "Pause between sweeper runs of expire_due().", nullptr,
                            &guc_sweep_interval_ms, 1000, 10, 3600 * 1000, PGC_SIGHUP, GUC_UNIT_MS,
                            nullptr, nullptr, nullptr);
    DefineCustomIntVariable("order_credit.sweep_batch",
                            "Most rows the sweeper expires per run (every sweep_interval).",
                            "A run that expired this many goes again at once.", &guc_sweep_batch,
                            1000, 1, 1000000, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable(
        "order_credit.sweep_chunk", "Most rows the sweeper expires per transaction.",
        "A run of sweep_batch rows commits every sweep_chunk rows, so a "
        "buyer never waits on the sweeper for longer than one chunk.",
        &guc_sweep_chunk, 1000, 1, 1000000, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("order_credit.sweep_nice",
                            "How much the sweeper lowers its CPU priority (nice increment over "
                            "the postmaster's).",
                            "0 runs it at the postmaster's priority. A reload that raises it takes "
                            "effect at once; one that lowers it restarts the worker.",
                            &guc_sweep_nice, 10, 0, 19, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
    DefineCustomStringVariable("order_credit.database",
                               "Databases the background sweeper serves (comma-separated).",
                               "Read when the workers are registered, at server start (needs "
                               "shared_preload_libraries); a change takes effect at the next "
                               "restart. SIGHUP context so the library can also load later.",
                               &guc_database, "postgres", PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("order_credit.idempotency_ttl",
                            "How long idempotency keys are kept before the purge may delete them.",
                            "Counted from the key's first begin; a key with a live lease is kept "
                            "until the lease lapses.",
                            &guc_idempotency_ttl_s, 86400, 1, INT_MAX, PGC_SUSET, GUC_UNIT_S,
                            nullptr, nullptr, nullptr);
    DefineCustomIntVariable("order_credit.event_retention",
                            "How long process_once() remembers an event before the purge may "
                            "delete it.",
                            "Keep it longer than the retry window of every event provider.",
                            &guc_event_retention_s, 604800, 1, INT_MAX, PGC_SUSET, GUC_UNIT_S,
                            nullptr, nullptr, nullptr);
    DefineCustomIntVariable("order_credit.max_named_locks",
                            "Most named locks (lock(), try_lock()) one transaction may hold.",
                            "One more raises OC012. The default is PostgreSQL's own "
                            "max_locks_per_transaction default, the share of the shared lock "
                            "table each transaction is sized for.",
                            &guc_max_named_locks, 64, 1, 1000000, PGC_SUSET, 0, nullptr, nullptr,
                            nullptr);
    DefineCustomIntVariable(
        "order_credit.max_lease", "Longest ttl acquire_lease() and renew_lease() grant.",
        "A longer one raises 22023: a lease is renewed as the work goes on, "
        "never taken for ever.",
        &guc_max_lease_s, 86400, 1, INT_MAX, PGC_SUSET, GUC_UNIT_S, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("order_credit.max_idempotency_lease",
                            "Longest lease idempotency_begin() grants a key.",
                            "A longer one raises 22023; idempotency_checkpoint() renews it.",
                            &guc_max_idempotency_lease_s, 86400, 1, INT_MAX, PGC_SUSET, GUC_UNIT_S,
                            nullptr, nullptr, nullptr);
    DefineCustomIntVariable("order_credit.lease_retention",
                            "How long a released or lapsed lease is kept before the purge may "
                            "delete it.",
                            "Until then its owner may still renew a lapsed lease. Tokens keep "
                            "growing after a purge (one sequence).",
                            &guc_lease_retention_s, 86400, 1, INT_MAX, PGC_SUSET, GUC_UNIT_S,
                            nullptr, nullptr, nullptr);
    stats::define_gucs();
    DefineCustomIntVariable("order_credit.finished_retention",
                            "How long finished orders, holds and reservations are kept before "
                            "the purge may delete them (0: kept forever).",
                            "Never shorter than order_credit.idempotency_ttl: a finished row "
                            "answers a replayed call with its order_ref.",
                            &guc_finished_retention_s, 2592000, 0, INT_MAX, PGC_SUSET, GUC_UNIT_S,
                            nullptr, nullptr, nullptr);
    MarkGUCPrefixReserved("order_credit");
    register_named_lock_count();

    if (!process_shared_preload_libraries_in_progress) return;
    prev_shmem_request_hook = shmem_request_hook;
    shmem_request_hook = oc_shmem_request;
    prev_shmem_startup_hook = shmem_startup_hook;
    shmem_startup_hook = oc_shmem_startup;
    register_sweepers();
}

// order_credit.default_ttl() -> interval: the current order_credit.default_ttl,
// used as the DEFAULT of every expires_in argument.
OC_FUNCTION(oc_default_ttl) {
    Interval *iv = static_cast<Interval *>(palloc0(sizeof(Interval)));
    iv->time = static_cast<TimeOffset>(guc_default_ttl_s) * USECS_PER_SEC;
    PG_RETURN_INTERVAL_P(iv);
}

// BEFORE UPDATE/DELETE/TRUNCATE trigger that keeps a table append-only.
OC_FUNCTION(oc_append_only) {
    if (!CALLED_AS_TRIGGER(fcinfo)) elog(ERROR, "order_credit: oc_append_only must be a trigger");
    TriggerData *td = reinterpret_cast<TriggerData *>(fcinfo->context);
    // order_history's rows go with their order when the purge deletes it.
    if (TRIGGER_FIRED_BY_DELETE(td->tg_event) && TRIGGER_FIRED_FOR_ROW(td->tg_event) &&
        order_history_delete_allowed() &&
        strcmp(RelationGetRelationName(td->tg_relation), "order_history") == 0 &&
        RelationGetNamespace(td->tg_relation) == get_namespace_oid("order_credit", false))
        return PointerGetDatum(td->tg_trigtuple);
    const char *op = TRIGGER_FIRED_BY_UPDATE(td->tg_event)   ? "UPDATE"
                     : TRIGGER_FIRED_BY_DELETE(td->tg_event) ? "DELETE"
                                                             : "TRUNCATE";
    ereport(ERROR,
            (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
             errmsg("%s on order_credit.%s is not allowed: the table is append-only", op,
                    RelationGetRelationName(td->tg_relation)),
             errhint("Corrections are new entries. For a repair, a superuser can ALTER TABLE "
                     "order_credit.%s DISABLE TRIGGER %s.",
                     RelationGetRelationName(td->tg_relation), td->tg_trigger->tgname)));
    PG_RETURN_NULL();
}

namespace {
// Counts destructor runs so the self test can prove unwinding happened.
int destructor_runs = 0;
struct Tracker {
    ~Tracker() { ++destructor_runs; }
};

Datum selftest(FunctionCallInfo fcinfo) {
    Args args(fcinfo);
    std::string kind = args.key(0, "kind");
    if (kind == "count") PG_RETURN_INT32(destructor_runs);
    Tracker alive;  // must be destroyed on every path below
    if (kind == "std") throw std::runtime_error("forced std::runtime_error");
    if (kind == "bad_alloc") throw std::bad_alloc();
    if (kind == "domain")
        throw oc::core::Error(oc::core::Code::InvalidState, "forced domain error", "detail=1",
                              "a hint");
    if (kind == "unknown") throw 42;
    if (kind == "pg") {
        // A PostgreSQL ERROR raised below a live C++ object.
        pg_call([] { (void)DirectFunctionCall2(int4div, Int32GetDatum(1), Int32GetDatum(0)); });
    }
    throw oc::core::Error(oc::core::Code::InvalidParameter, "unknown self-test kind", kind);
}
}  // namespace

// order_credit._guard_selftest(kind text) -> int. Not for applications.
OC_FUNCTION(oc_guard_selftest) {
    return guard(fcinfo, selftest);
}
