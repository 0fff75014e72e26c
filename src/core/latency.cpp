#include "core/latency.hpp"

#include <cmath>
#include <limits>

namespace oc::core::latency {

namespace {
constexpr double kBoundUs[kBounds] = {1,   2,   5,   1e1, 2e1, 5e1, 1e2, 2e2, 5e2, 1e3, 2e3,
                                      5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6, 2e6, 5e6, 1e7};
}  // namespace

double upper_bound_us(int bucket) {
    if (bucket >= 0 && bucket < kBounds) return kBoundUs[bucket];
    return std::numeric_limits<double>::infinity();
}

int bucket_of(double us) {
    if (!(us > kBoundUs[0])) return 0;  // also NaN
    int lo = 1, hi = kBounds;           // the answer is in [lo, hi]
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (us <= kBoundUs[mid])
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

double quantile_us(const uint64_t *counts, double q, double max_us) {
    uint64_t total = 0;
    for (int i = 0; i < kBuckets; ++i) total += counts[i];
    if (total == 0) return -1;
    if (!(q > 0)) q = std::numeric_limits<double>::min();
    if (q > 1) q = 1;
    double rank = q * static_cast<double>(total);
    double before = 0;
    for (int i = 0; i < kBuckets; ++i) {
        double n = static_cast<double>(counts[i]);
        if (counts[i] == 0 || before + n < rank) {
            before += n;
            continue;
        }
        double upper = std::fmin(upper_bound_us(i), max_us);
        double lower = std::fmin(i == 0 ? 0.0 : upper_bound_us(i - 1), upper);
        return lower + (upper - lower) * ((rank - before) / n);
    }
    return max_us;  // rounding: rank a hair above total
}

}  // namespace oc::core::latency
