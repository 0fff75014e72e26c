#include <cstring>

#include "core/error.hpp"
#include "pg/guard.hpp"
#include "pg/stats.hpp"

extern "C" {
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/tuplestore.h"
}

namespace oc::pg::stats {
namespace {

constexpr int kCodes = static_cast<int>(core::Code::Internal) + 1;
constexpr int kOther = 1 + kCodes;
constexpr int kMaxEntries = 512;
constexpr int kOpLen = 48;

struct Entry {
    char op[kOpLen];
    int outcome;
    bool used;
    slock_t mutex;
    uint64 calls;
    double total_ms;
    double max_ms;
    double lock_wait_ms;
};

struct Shared {
    LWLock *lock;
    Entry entries[kMaxEntries];
};

Shared *shared = nullptr;

// Current call of this backend.
int depth = 0;
int64_t lock_wait_us = 0;
int outcome_override = -1;

uint32 slot_of(const char *op, int outcome) {
    uint32 h = 2166136261u;
    for (const char *p = op; *p; ++p) h = (h ^ static_cast<unsigned char>(*p)) * 16777619u;
    h = (h ^ static_cast<uint32>(outcome)) * 16777619u;
    return h % kMaxEntries;
}

Entry *find(const char *op, int outcome, bool create) {
    uint32 start = slot_of(op, outcome);
    for (int i = 0; i < kMaxEntries; ++i) {
        Entry *e = &shared->entries[(start + i) % kMaxEntries];
        if (!e->used) {
            if (!create) return nullptr;
            strlcpy(e->op, op, kOpLen);
            e->outcome = outcome;
            SpinLockInit(&e->mutex);
            e->calls = 0;
            e->total_ms = e->max_ms = e->lock_wait_ms = 0;
            pg_write_barrier();
            e->used = true;
            return e;
        }
        if (e->outcome == outcome && strncmp(e->op, op, kOpLen) == 0) return e;
    }
    return nullptr;  // table full: the call is not counted
}

}  // namespace

void request_shmem() {
    RequestAddinShmemSpace(MAXALIGN(sizeof(Shared)));
    RequestNamedLWLockTranche("order_credit", 1);
}

void startup_shmem() {
    bool found = false;
    LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
    shared = static_cast<Shared *>(ShmemInitStruct("order_credit stats", sizeof(Shared), &found));
    if (!found) {
        memset(shared, 0, sizeof(Shared));
        shared->lock = &(GetNamedLWLockTranche("order_credit"))->lock;
    }
    LWLockRelease(AddinShmemInitLock);
}

bool enabled() {
    return shared != nullptr;
}

int outcome_of(core::Code code) {
    return 1 + static_cast<int>(code);
}

int outcome_of_sqlerrcode(int sqlerrcode) {
    for (int c = 0; c < kCodes; ++c)
        if (to_sqlerrcode(static_cast<core::Code>(c)) == sqlerrcode) return 1 + c;
    return kOther;
}

const char *outcome_name(int outcome) {
    if (outcome == kOk) return "ok";
    if (outcome >= 1 && outcome <= kCodes)
        return core::code_name(static_cast<core::Code>(outcome - 1)).data();
    return "error";
}

void begin_call() {
    if (depth++ == 0) {
        lock_wait_us = 0;
        outcome_override = -1;
    }
}

void add_lock_wait_us(int64_t us) {
    lock_wait_us += us;
}

void note_outcome(core::Code code) {
    outcome_override = outcome_of(code);
}

int overridden_outcome(int outcome) {
    return (outcome == kOk && outcome_override >= 0) ? outcome_override : outcome;
}

void end_call(const char *operation, int outcome, double elapsed_ms) {
    if (--depth > 0 || shared == nullptr || operation == nullptr) return;
    Entry *e;
    LWLockAcquire(shared->lock, LW_SHARED);
    e = find(operation, outcome, false);
    LWLockRelease(shared->lock);
    if (e == nullptr) {
        LWLockAcquire(shared->lock, LW_EXCLUSIVE);
        e = find(operation, outcome, true);
        LWLockRelease(shared->lock);
        if (e == nullptr) return;
    }
    double wait_ms = static_cast<double>(lock_wait_us) / 1000.0;
    SpinLockAcquire(&e->mutex);
    e->calls++;
    e->total_ms += elapsed_ms;
    if (elapsed_ms > e->max_ms) e->max_ms = elapsed_ms;
    e->lock_wait_ms += wait_ms;
    SpinLockRelease(&e->mutex);
}

}  // namespace oc::pg::stats

using namespace oc::pg;

// order_credit._stats() -> SETOF (operation, outcome, calls, total_ms, max_ms, lock_wait_ms)
OC_FUNCTION(oc_stats) {
    return guard(fcinfo, [](FunctionCallInfo fc) -> Datum {
        pg_call([fc] {
            InitMaterializedSRF(fc, 0);
            ReturnSetInfo *rs = reinterpret_cast<ReturnSetInfo *>(fc->resultinfo);
            if (stats::shared == nullptr) return;
            LWLockAcquire(stats::shared->lock, LW_SHARED);
            for (int i = 0; i < stats::kMaxEntries; ++i) {
                stats::Entry *e = &stats::shared->entries[i];
                if (!e->used) continue;
                SpinLockAcquire(&e->mutex);
                uint64 calls = e->calls;
                double total = e->total_ms, max = e->max_ms, wait = e->lock_wait_ms;
                SpinLockRelease(&e->mutex);
                if (calls == 0) continue;
                Datum values[6];
                bool nulls[6] = {false, false, false, false, false, false};
                values[0] = CStringGetTextDatum(e->op);
                values[1] = CStringGetTextDatum(stats::outcome_name(e->outcome));
                values[2] = Int64GetDatum(static_cast<int64>(calls));
                values[3] = Float8GetDatum(total);
                values[4] = Float8GetDatum(max);
                values[5] = Float8GetDatum(wait);
                tuplestore_putvalues(rs->setResult, rs->setDesc, values, nulls);
            }
            LWLockRelease(stats::shared->lock);
        });
        return Datum(0);
    });
}

// order_credit.stats_reset() -> void
OC_FUNCTION(oc_stats_reset) {
    return guard(fcinfo, [](FunctionCallInfo) -> Datum {
        pg_call([] {
            if (stats::shared == nullptr) return;
            LWLockAcquire(stats::shared->lock, LW_SHARED);
            for (int i = 0; i < stats::kMaxEntries; ++i) {
                stats::Entry *e = &stats::shared->entries[i];
                if (!e->used) continue;
                SpinLockAcquire(&e->mutex);
                e->calls = 0;
                e->total_ms = e->max_ms = e->lock_wait_ms = 0;
                SpinLockRelease(&e->mutex);
            }
            LWLockRelease(stats::shared->lock);
        });
        return Datum(0);
    });
}
