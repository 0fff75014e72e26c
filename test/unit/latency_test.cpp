// Unit tests of core::latency, the buckets and percentiles of
// order_credit.stats and order_credit.stats_latency_buckets.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "core/latency.hpp"

namespace {

namespace latency = oc::core::latency;
using latency::kBounds;
using latency::kBuckets;

TEST(Latency, BoundsAreTheOneTwoFiveSeriesFromOneMicrosecondToTenSeconds) {
    const double want[] = {1,   2,   5,   1e1, 2e1, 5e1, 1e2, 2e2, 5e2, 1e3, 2e3,
                           5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6, 2e6, 5e6, 1e7};
    ASSERT_EQ(kBounds, 22);
    for (int i = 0; i < kBounds; ++i) EXPECT_EQ(latency::upper_bound_us(i), want[i]) << i;
    EXPECT_TRUE(std::isinf(latency::upper_bound_us(kBounds)));
    EXPECT_EQ(kBuckets, kBounds + 1);
    // 100 ms, the alert threshold of a credit check, is a bound.
    EXPECT_EQ(latency::upper_bound_us(15), 100000);
}

TEST(Latency, ABoundBelongsToItsOwnBucket) {
    for (int i = 0; i < kBounds; ++i) {
        double b = latency::upper_bound_us(i);
        EXPECT_EQ(latency::bucket_of(b), i) << b;
        EXPECT_EQ(latency::bucket_of(std::nextafter(b, 1e300)), i + 1) << b;
        if (i > 0) {
            EXPECT_EQ(latency::bucket_of(std::nextafter(b, 0)), i) << b;
        }
    }
}

TEST(Latency, BucketOfEdgeValues) {
    EXPECT_EQ(latency::bucket_of(0), 0);
    EXPECT_EQ(latency::bucket_of(0.3), 0);
    EXPECT_EQ(latency::bucket_of(-5), 0);
    EXPECT_EQ(latency::bucket_of(std::nan("")), 0);
    EXPECT_EQ(latency::bucket_of(1.5), 1);
    EXPECT_EQ(latency::bucket_of(37), 5);       // (20, 50]
    EXPECT_EQ(latency::bucket_of(150000), 16);  // (100 ms, 200 ms]
    EXPECT_EQ(latency::bucket_of(1e7 + 1), kBounds);
    EXPECT_EQ(latency::bucket_of(3600e6), kBounds);
    EXPECT_EQ(latency::bucket_of(std::numeric_limits<double>::infinity()), kBounds);
}

std::vector<uint64_t> counts_of(const std::vector<double> &us) {
    std::vector<uint64_t> c(kBuckets, 0);
    for (double v : us) c[latency::bucket_of(v)]++;
    return c;
}

TEST(Latency, EmptyHistogramHasNoQuantile) {
    std::vector<uint64_t> c(kBuckets, 0);
    EXPECT_LT(latency::quantile_us(c.data(), 0.5, 0), 0);
}

TEST(Latency, InterpolatesWithinTheBucketAsPrometheusDoes) {
    // 100 calls in (50, 100]: the median is half way, p99 at 99% of the way.
    std::vector<uint64_t> c(kBuckets, 0);
    c[latency::bucket_of(80)] = 100;
    EXPECT_DOUBLE_EQ(latency::quantile_us(c.data(), 0.5, 100), 75);
    EXPECT_DOUBLE_EQ(latency::quantile_us(c.data(), 0.99, 100), 99.5);
    EXPECT_DOUBLE_EQ(latency::quantile_us(c.data(), 1, 100), 100);
    // The first bucket interpolates from 0.
    std::vector<uint64_t> d(kBuckets, 0);
    d[0] = 4;
    EXPECT_DOUBLE_EQ(latency::quantile_us(d.data(), 0.5, 1), 0.5);
}

TEST(Latency, TheSlowestCallCapsTheBucketsBound) {
    // Every call took 60 us: the bucket (50, 100] is read as (50, 60].
    std::vector<uint64_t> c(kBuckets, 0);
    c[latency::bucket_of(60)] = 10;
    EXPECT_DOUBLE_EQ(latency::quantile_us(c.data(), 0.5, 60), 55);
    EXPECT_DOUBLE_EQ(latency::quantile_us(c.data(), 0.99, 60), 59.9);
    // The last bucket has no bound of its own: the max stands for it.
    std::vector<uint64_t> d(kBuckets, 0);
    d[kBounds] = 2;
    EXPECT_DOUBLE_EQ(latency::quantile_us(d.data(), 0.5, 3e7), 2e7);
    EXPECT_DOUBLE_EQ(latency::quantile_us(d.data(), 1, 3e7), 3e7);
}

TEST(Latency, QuantilesPickTheBucketOfTheirRank) {
    // 90 fast calls (10 us), 9 at 1 ms, 1 at 2 s.
    std::vector<double> us(90, 10.0);
    us.insert(us.end(), 9, 1000.0);
    us.push_back(2e6);
    auto c = counts_of(us);
    double p50 = latency::quantile_us(c.data(), 0.5, 2e6);
    double p95 = latency::quantile_us(c.data(), 0.95, 2e6);
    double p99 = latency::quantile_us(c.data(), 0.99, 2e6);
    EXPECT_GT(p50, 5);
    EXPECT_LE(p50, 10);
    EXPECT_GT(p95, 500);
    EXPECT_LE(p95, 1000);
    EXPECT_GT(p99, 500);
    EXPECT_LE(p99, 1000);  // rank 99 is the last 1 ms call
    EXPECT_DOUBLE_EQ(latency::quantile_us(c.data(), 1, 2e6), 2e6);
}

TEST(Latency, QuantilesAreOrderedAndBoundedByTheMax) {
    // A spread of durations over every decade, with a deterministic LCG.
    uint32_t x = 12345;
    std::vector<double> us;
    double max = 0;
    for (int i = 0; i < 5000; ++i) {
        x = x * 1103515245u + 12345u;
        double v = std::pow(10.0, (x >> 8) % 8000 / 1000.0);  // 1 us .. 100 s
        us.push_back(v);
        max = std::fmax(max, v);
    }
    auto c = counts_of(us);
    uint64_t total = 0;
    for (uint64_t n : c) total += n;
    EXPECT_EQ(total, 5000u);
    double prev = 0;
    for (double q = 0.01; q <= 1.0; q += 0.01) {
        double v = latency::quantile_us(c.data(), q, max);
        EXPECT_GE(v, prev) << q;
        EXPECT_LE(v, max) << q;
        prev = v;
    }
}

TEST(Latency, EstimateStaysWithinTheBucketOfTheTrueQuantile) {
    std::vector<double> us;
    for (int i = 1; i <= 1000; ++i) us.push_back(i * 3.7);  // 3.7 us .. 3.7 ms
    auto c = counts_of(us);
    for (double q : {0.5, 0.95, 0.99}) {
        double truth = us[static_cast<size_t>(q * 1000) - 1];
        int b = latency::bucket_of(truth);
        double est = latency::quantile_us(c.data(), q, us.back());
        EXPECT_GE(est, b == 0 ? 0 : latency::upper_bound_us(b - 1)) << q;
        EXPECT_LE(est, latency::upper_bound_us(b)) << q;
    }
}

}  // namespace
