#include <cstring>

#include "core/error.hpp"
#include "core/latency.hpp"
#include "pg/guard.hpp"
#include "pg/stats.hpp"

extern "C" {
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/guc.h"
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
    uint64 latency[core::latency::kBuckets];  // calls per latency bucket
};

struct Shared {
    LWLock *lock;
    Entry entries[kMaxEntries];
};

Shared *shared = nullptr;

// order_credit.latency_histograms: feed Entry::latency.
bool histograms = true;
// order_credit.low_stock_threshold: read by monitoring queries only.
int low_stock_threshold = 0;

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
            memset(e->latency, 0, sizeof e->latency);
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

void define_gucs() {
    DefineCustomBoolVariable("order_credit.latency_histograms",
                             "Counts each call of order_credit.stats in a latency histogram.",
                             "The histograms give the p50_ms, p95_ms and p99_ms columns of "
                             "order_credit.stats and order_credit.stats_latency_buckets; off "
                             "leaves them as they are (calls, times and maxima are still counted).",
                             &histograms, true, PGC_SUSET, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("order_credit.low_stock_threshold",
                            "Available units at or below which monitoring reports an item as low "
                            "on stock.",
                            "Read by the queries of monitoring/prometheus/queries.yaml (metric "
                            "order_credit_stock_low_available, alert OrderCreditLowStock); the "
                            "extension's functions do not use it. 0 (the default): sold out.",
                            &low_stock_threshold, 0, 0, INT_MAX, PGC_USERSET, 0, nullptr, nullptr,
                            nullptr);
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
    int bucket = histograms ? core::latency::bucket_of(elapsed_ms * 1000.0) : -1;
    SpinLockAcquire(&e->mutex);
    e->calls++;
    if (bucket >= 0) e->latency[bucket]++;
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
                memset(e->latency, 0, sizeof e->latency);
                SpinLockRelease(&e->mutex);
            }
            LWLockRelease(stats::shared->lock);
        });
        return Datum(0);
    });
}

namespace {
// One entry as read under its mutex.
struct EntryRead {
    uint64 calls;
    double total_ms, max_ms, lock_wait_ms;
    uint64 latency[oc::core::latency::kBuckets];
};

void read_entry(stats::Entry *e, EntryRead *out) {
    SpinLockAcquire(&e->mutex);
    out->calls = e->calls;
    out->total_ms = e->total_ms;
    out->max_ms = e->max_ms;
    out->lock_wait_ms = e->lock_wait_ms;
    memcpy(out->latency, e->latency, sizeof out->latency);
    SpinLockRelease(&e->mutex);
}

// Runs `row(rs, entry, read)` for every entry with calls, under the table's lock.
template <typename Row>
void each_entry(ReturnSetInfo *rs, Row row) {
    if (stats::shared == nullptr) return;
    LWLockAcquire(stats::shared->lock, LW_SHARED);
    for (int i = 0; i < stats::kMaxEntries; ++i) {
        stats::Entry *e = &stats::shared->entries[i];
        if (!e->used) continue;
        EntryRead s;
        read_entry(e, &s);
        if (s.calls > 0) row(rs, e, s);
    }
    LWLockRelease(stats::shared->lock);
}
}  // namespace

// order_credit._stats_latency() -> SETOF (operation, outcome, calls, total_ms,
// max_ms, lock_wait_ms, p50_ms, p95_ms, p99_ms): _stats() and the
// percentiles of each entry's histogram, read together (NULL percentiles:
// no call in the histogram).
OC_FUNCTION(oc_stats_latency) {
    return guard(fcinfo, [](FunctionCallInfo fc) -> Datum {
        pg_call([fc] {
            InitMaterializedSRF(fc, 0);
            each_entry(reinterpret_cast<ReturnSetInfo *>(fc->resultinfo),
                       [](ReturnSetInfo *rs, stats::Entry *e, const EntryRead &s) {
                           namespace latency = oc::core::latency;
                           Datum values[9];
                           bool nulls[9] = {false};
                           values[0] = CStringGetTextDatum(e->op);
                           values[1] = CStringGetTextDatum(stats::outcome_name(e->outcome));
                           values[2] = Int64GetDatum(static_cast<int64>(s.calls));
                           values[3] = Float8GetDatum(s.total_ms);
                           values[4] = Float8GetDatum(s.max_ms);
                           values[5] = Float8GetDatum(s.lock_wait_ms);
                           const double qs[3] = {0.5, 0.95, 0.99};
                           for (int i = 0; i < 3; ++i) {
                               double us =
                                   latency::quantile_us(s.latency, qs[i], s.max_ms * 1000.0);
                               nulls[6 + i] = us < 0;
                               values[6 + i] = Float8GetDatum(us < 0 ? 0 : us / 1000.0);
                           }
                           tuplestore_putvalues(rs->setResult, rs->setDesc, values, nulls);
                       });
        });
        return Datum(0);
    });
}

// order_credit._stats_latency_buckets() -> SETOF (operation, outcome, le,
// calls): every bucket of every histogram with calls, cumulative as
// Prometheus' `le` buckets (le in seconds, +Infinity for the last).
OC_FUNCTION(oc_stats_latency_buckets) {
    return guard(fcinfo, [](FunctionCallInfo fc) -> Datum {
        pg_call([fc] {
            InitMaterializedSRF(fc, 0);
            each_entry(reinterpret_cast<ReturnSetInfo *>(fc->resultinfo),
                       [](ReturnSetInfo *rs, stats::Entry *e, const EntryRead &s) {
                           namespace latency = oc::core::latency;
                           uint64 total = 0;
                           for (int b = 0; b < latency::kBuckets; ++b) total += s.latency[b];
                           if (total == 0) return;
                           uint64 cumulative = 0;
                           for (int b = 0; b < latency::kBuckets; ++b) {
                               cumulative += s.latency[b];
                               Datum values[4];
                               bool nulls[4] = {false, false, false, false};
                               values[0] = CStringGetTextDatum(e->op);
                               values[1] = CStringGetTextDatum(stats::outcome_name(e->outcome));
                               values[2] = Float8GetDatum(latency::upper_bound_us(b) / 1e6);
                               values[3] = Int64GetDatum(static_cast<int64>(cumulative));
                               tuplestore_putvalues(rs->setResult, rs->setDesc, values, nulls);
                           }
                       });
        });
        return Datum(0);
    });
}
