// Per-operation, per-outcome counters in shared memory, fed by guard() for
// every instrumented SQL-callable function. Present only when the library is
// in shared_preload_libraries; otherwise every function here is a no-op.
#pragma once

#include <cstdint>

#include "core/error.hpp"

namespace oc::pg::stats {

void request_shmem();  // from shmem_request_hook (postmaster, preload only)
void startup_shmem();  // from shmem_startup_hook
bool enabled();
// order_credit.latency_histograms and order_credit.low_stock_threshold, from _PG_init.
void define_gucs();

// Outcome slots: 0 = ok, 1 + Code for each core::Code, kOther for any other
// PostgreSQL error.
constexpr int kOk = 0;
int outcome_of(core::Code code);
int outcome_of_sqlerrcode(int sqlerrcode);
const char *outcome_name(int outcome);

// Per-call bookkeeping of the current backend (one call at a time per
// backend; nested calls of the extension fold into the outer one).
void begin_call();
void add_lock_wait_us(int64_t us);
// try_ variants report their ok = false outcome instead of "ok".
void note_outcome(core::Code code);
// Records one finished call. Never raises an error.
void end_call(const char *operation, int outcome, double elapsed_ms);
int overridden_outcome(int outcome);

}  // namespace oc::pg::stats
