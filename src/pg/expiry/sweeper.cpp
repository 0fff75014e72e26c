// The background sweeper: with order_credit in shared_preload_libraries, one
// worker per database listed in order_credit.database expires up to
// order_credit.sweep_batch rows every order_credit.sweep_interval, as calls
// of order_credit.expire_due(n) in transactions of at most
// order_credit.sweep_chunk rows each (so it never holds a row lock a buyer
// waits on for longer than one chunk), logging and going on after errors.
// The postmaster restarts it if it dies.
//
// Why chunks: a transaction of n due reservations over many SKUs holds the
// buckets of up to n SKUs for a time that also grows with n, so what buyers
// wait for grows with n squared. Chunks of 1,000 cost the buyers less than
// chunks of 100 (fewer commits, each bucket updated once for more claims;
// docs/benchmarks.md): the default is 1,000, one transaction per default
// run.
//
// This file is plain C-style code: no C++ object lives in any frame here,
// so PostgreSQL errors may longjmp through it freely.
#include <sys/resource.h>

#include <algorithm>
#include <cerrno>

#include "pg/common.hpp"
#include "pg/stock/expire_direct.hpp"
#include "pg/pg.hpp"

extern "C" {
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/snapmgr.h"
#include "utils/varlena.h"
}

namespace oc::pg {
int guc_sweep_interval_ms = 1000;
int guc_sweep_batch = 1000;
int guc_sweep_chunk = 1000;
int guc_sweep_nice = 10;
char *guc_database = nullptr;
}  // namespace oc::pg

using namespace oc::pg;

namespace {

// The sweeper's two statements, planned once (a re-created extension
// re-plans them: plan cache invalidation). Inside SPI.
SPIPlanPtr installed_plan = nullptr;
SPIPlanPtr expire_plan = nullptr;

SPIPlanPtr kept_plan(const char *sql, int nargs) {
    Oid argtypes[1] = {INT4OID};
    SPIPlanPtr plan = SPI_prepare(sql, nargs, argtypes);
    if (plan == nullptr || SPI_keepplan(plan) != 0)
        elog(ERROR, "order_credit sweeper: could not prepare \"%s\"", sql);
    return plan;
}

// One chunk (expire_due(rows)) in its own transaction. Returns rows
// expired, -1 after an error (already logged), -2 when the extension is not
// installed in this database.
int64 sweep_once(MemoryContext loop_cxt, int32 rows) {
    volatile int64 result = 0;
    SetCurrentStatementStartTimestamp();
    StartTransactionCommand();
    // The batch only records expiries that every reader already applies
    // (expiry is exact on read), so its commit need not wait for the WAL
    // flush: the row locks it holds are released sooner, and a batch lost in
    // a crash is simply done again by the next one.
    (void)set_config_option("synchronous_commit", "off", PGC_USERSET, PGC_S_SESSION,
                            GUC_ACTION_LOCAL, true, 0, false);
    PushActiveSnapshot(GetTransactionSnapshot());
    pgstat_report_activity(STATE_RUNNING, "SELECT order_credit.expire_due($1)");
    PG_TRY();
    {
        if (SPI_connect() != SPI_OK_CONNECT)
            elog(ERROR, "order_credit sweeper: SPI_connect failed");
        // Installed (and at a version that has expire_due)?
        if (installed_plan == nullptr)
            installed_plan = kept_plan(
                "SELECT 1 WHERE pg_catalog.to_regprocedure('order_credit.expire_due(integer)') "
                "IS NOT NULL",
                0);
        SPI_execute_plan(installed_plan, nullptr, nullptr, true, 1);
        if (SPI_processed == 0) {
            result = -2;
        } else {
            if (expire_plan == nullptr)
                expire_plan = kept_plan("SELECT order_credit.expire_due($1)", 1);
            Datum args[1] = {Int32GetDatum(rows)};
            int rc = SPI_execute_plan(expire_plan, args, nullptr, false, 1);
            if (rc != SPI_OK_SELECT || SPI_processed != 1)
                elog(ERROR, "order_credit sweeper: expire_due returned no row");
            bool isnull = false;
            Datum d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
            result = isnull ? 0 : DatumGetInt64(d);
        }
        SPI_finish();
        PopActiveSnapshot();
        CommitTransactionCommand();
    }
    PG_CATCH();
    {
        MemoryContextSwitchTo(loop_cxt);
        EmitErrorReport();
        FlushErrorState();
        AbortCurrentTransaction();
        result = -1;
    }
    PG_END_TRY();
    pgstat_report_stat(false);
    pgstat_report_activity(STATE_IDLE, nullptr);
    return result;
}

// CPU priority (order_credit.sweep_nice). Housekeeping yields the CPU to
// the buyers: on a machine where the backends already use every core, a
// runnable sweeper takes the CPU from backends that are about to commit
// (and to flush the WAL others wait for). Measured (100,000 reservations
// falling due during the run, 2 cores): reserve throughput with the
// sweeper at 0.68x of without (8 buyers) and 0.75x (32) at nice 0, 0.82x
// and 0.86x at nice 10. The price is priority inversion: a buyer that
// waits on a row the sweeper holds waits longer while the sweeper is
// preempted, which chunks (sweep_chunk) keep short.
//
// The value is the increment over the postmaster's priority. A process may
// always lower its own priority but not raise it again: a reload that
// lowers sweep_nice makes the worker exit so that the postmaster starts it
// again (1 s later) from the postmaster's priority.
int base_priority = 0;  // the postmaster's, read at start
int applied_nice = 0;   // the increment in effect

int current_priority() {
    errno = 0;
    int prio = getpriority(PRIO_PROCESS, 0);
    return errno == 0 ? prio : 0;
}

void apply_nice() {
    if (guc_sweep_nice == applied_nice) return;
    if (guc_sweep_nice < applied_nice) {
        ereport(LOG, (errmsg("order_credit sweeper: restarting to lower order_credit.sweep_nice "
                             "from %d to %d",
                             applied_nice, guc_sweep_nice)));
        proc_exit(1);
    }
    int target = std::min(base_priority + guc_sweep_nice, 19);
    if (setpriority(PRIO_PROCESS, 0, target) != 0) {
        ereport(LOG,
                (errmsg("order_credit sweeper: could not set its CPU priority to %d: %m", target)));
        return;
    }
    applied_nice = guc_sweep_nice;
}

}  // namespace

extern "C" PGDLLEXPORT __attribute__((visibility("default"))) void oc_sweeper_main(Datum arg);

void oc_sweeper_main(Datum arg) {
    pqsignal(SIGHUP, SignalHandlerForConfigReload);
    pqsignal(SIGTERM, die);
    BackgroundWorkerUnblockSignals();
    BackgroundWorkerInitializeConnection(MyBgworkerEntry->bgw_extra, nullptr, 0);
    // This process calls expire_due for its whole life, several times a
    // second: its due scans may start where the last one ended.
    direct::scan_floor = true;
    pgstat_report_appname("order_credit sweeper");
    base_priority = current_priority();
    apply_nice();
    ereport(LOG, (errmsg("order_credit sweeper started for database \"%s\"",
                         MyBgworkerEntry->bgw_extra)));
    MemoryContext loop_cxt =
        AllocSetContextCreate(TopMemoryContext, "order_credit sweeper", ALLOCSET_DEFAULT_SIZES);
    bool warned_missing = false;
    int64 last = 0;
    for (;;) {
        // A full batch (sweep_batch rows) may have left more due: go again at once. Any other
        // batch waits for the interval: what it skipped (a bucket a buyer
        // held) or what falls due meanwhile goes in the next batch. Going
        // again at once after every non-empty batch, with reservations
        // falling due all the time, ran a transaction every few milliseconds
        // for a few rows each (measured: 2,559 calls in 8 s, ~40 rows each),
        // whose fixed cost and commits took CPU and WAL from the buyers.
        if (last < guc_sweep_batch) {
            (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
                            guc_sweep_interval_ms, PG_WAIT_EXTENSION);
            ResetLatch(MyLatch);
        }
        CHECK_FOR_INTERRUPTS();
        if (ConfigReloadPending) {
            ConfigReloadPending = false;
            ProcessConfigFile(PGC_SIGHUP);
            apply_nice();
        }
        // The batch, chunk by chunk, until it is done or a chunk comes back
        // less than half full: little or nothing more is due. A chunk a bit
        // short is usual under load (its rows in buckets buyers held were
        // skipped; the next chunk takes them again); stopping at every short
        // chunk, the sweeper fell behind (measured: 17-22% of 100,000 due
        // reservations swept in 8 s, 8 buyers, 100-row chunks).
        int64 done = 0;
        for (;;) {
            int32 rows =
                static_cast<int32>(std::min<int64>(guc_sweep_chunk, guc_sweep_batch - done));
            MemoryContext old = MemoryContextSwitchTo(loop_cxt);
            int64 n = sweep_once(loop_cxt, rows);
            MemoryContextSwitchTo(old);
            MemoryContextReset(loop_cxt);
            if (n < 0) {
                done = n;
                break;
            }
            done += n;
            if (2 * n < rows || done >= guc_sweep_batch) break;
            CHECK_FOR_INTERRUPTS();
        }
        last = done;
        if (last == -2 && !warned_missing) {
            ereport(LOG, (errmsg("order_credit sweeper: extension not installed in database "
                                 "\"%s\"; waiting",
                                 MyBgworkerEntry->bgw_extra)));
            warned_missing = true;
        } else if (last >= 0) {
            warned_missing = false;
        }
    }
}

namespace oc::pg {

// Registers one sweeper per database in order_credit.database (comma list).
void register_sweepers() {
    char *list = pstrdup(guc_database != nullptr ? guc_database : "");
    List *names = NIL;
    if (!SplitIdentifierString(list, ',', &names)) {
        ereport(WARNING,
                (errmsg("order_credit.database is not a valid list: \"%s\"", guc_database)));
        return;
    }
    ListCell *lc;
    foreach (lc, names) {
        const char *db = static_cast<const char *>(lfirst(lc));
        BackgroundWorker worker;
        memset(&worker, 0, sizeof(worker));
        worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
        worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
        worker.bgw_restart_time = 1;
        strlcpy(worker.bgw_library_name, "order_credit", BGW_MAXLEN);
        strlcpy(worker.bgw_function_name, "oc_sweeper_main", BGW_MAXLEN);
        snprintf(worker.bgw_name, BGW_MAXLEN, "order_credit sweeper [%s]", db);
        strlcpy(worker.bgw_type, "order_credit sweeper", BGW_MAXLEN);
        strlcpy(worker.bgw_extra, db, BGW_EXTRALEN);
        RegisterBackgroundWorker(&worker);
    }
}

}  // namespace oc::pg
