// Latency histograms of order_credit.stats: fixed log-scale buckets from
// 1 microsecond to 10 seconds (the 1-2-5 series of each decade, then one
// bucket for everything slower), and the percentiles read from them. Pure
// arithmetic; the PostgreSQL layer keeps the counts in shared memory.
#pragma once

#include <cstdint>

namespace oc::core::latency {

// Finite upper bounds, in microseconds: 1, 2, 5, 10, 20, 50, ..., 5e6, 1e7.
constexpr int kBounds = 22;
// Buckets: one per finite bound (values above the previous bound, up to and
// including this one, as Prometheus' `le`), then the one above 10 s.
constexpr int kBuckets = kBounds + 1;

// Upper bound of bucket i in microseconds; +infinity for the last bucket.
double upper_bound_us(int bucket);

// The bucket a call of `us` microseconds falls in (the first whose upper
// bound is >= us). Negative and NaN durations fall in the first bucket.
int bucket_of(double us);

// The q-quantile (0 < q <= 1) of the calls counted in `counts` (one count
// per bucket, not cumulative), as Prometheus' histogram_quantile estimates
// it: the bucket holding the call of rank q * total, interpolated linearly
// between its bounds (0 below the first bucket), where the upper bound is
// at most `max_us`, the slowest call seen (which also stands for the last
// bucket's missing bound). So quantiles never decrease with q and never
// exceed max_us. Returns a negative value when no call was counted.
double quantile_us(const uint64_t *counts, double q, double max_us);

}  // namespace oc::core::latency
