#include <cstdint>
#include <limits>
#include <optional>

#include <gtest/gtest.h>

#include "core/alerts.hpp"
#include "core/error.hpp"

using namespace oc::core;

TEST(Crossing, FallsOnlyWhenReachingTheThresholdFromAbove) {
    EXPECT_EQ(crossing(11, 10, 10), Crossing::Fell);  // to the threshold: low
    EXPECT_EQ(crossing(11, 0, 10), Crossing::Fell);
    EXPECT_EQ(crossing(100, 3, 10), Crossing::Fell);  // far across in one step
    EXPECT_EQ(crossing(12, 11, 10), Crossing::None);  // still above
    EXPECT_EQ(crossing(10, 9, 10), Crossing::None);   // already low
    EXPECT_EQ(crossing(10, 10, 10), Crossing::None);
}

TEST(Crossing, RisesOnlyWhenLeavingTheThresholdUpwards) {
    EXPECT_EQ(crossing(10, 11, 10), Crossing::Rose);
    EXPECT_EQ(crossing(0, 1000, 10), Crossing::Rose);
    EXPECT_EQ(crossing(9, 10, 10), Crossing::None);  // to the threshold: still low
    EXPECT_EQ(crossing(11, 12, 10), Crossing::None);
}

TEST(Crossing, ZeroThresholdIsSoldOut) {
    EXPECT_EQ(crossing(1, 0, 0), Crossing::Fell);
    EXPECT_EQ(crossing(0, 1, 0), Crossing::Rose);
    EXPECT_EQ(crossing(2, 1, 0), Crossing::None);
}

TEST(Crossing, NoThresholdNeverCrosses) {
    EXPECT_EQ(crossing(11, 0, std::nullopt), Crossing::None);
    EXPECT_EQ(crossing(0, 11, std::nullopt), Crossing::None);
    // A threshold that appears or goes away is not a crossing.
    EXPECT_EQ(crossing(11, std::nullopt, 0, 10), Crossing::None);
    EXPECT_EQ(crossing(0, 10, 11, std::nullopt), Crossing::None);
}

TEST(Crossing, ExtremesDoNotOverflow) {
    constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
    EXPECT_EQ(crossing(kMax, 0, kMax - 1), Crossing::Fell);
    EXPECT_EQ(crossing(0, kMax, kMax - 1), Crossing::Rose);
    EXPECT_EQ(crossing(kMax, kMax, kMax), Crossing::None);
}

TEST(Crossing, MovedThreshold) {
    // A re-stripe: share 5 -> 3, level 4 -> 4: was low, is not.
    EXPECT_EQ(crossing(4, 5, 4, 3), Crossing::Rose);
    EXPECT_EQ(crossing(4, 3, 4, 5), Crossing::Fell);
    EXPECT_EQ(crossing(4, 5, 2, 3), Crossing::None);
}

TEST(Removal, OnlyALowBucketIsReported) {
    EXPECT_EQ(removal(3, 3), Crossing::Removed);  // at its share: low
    EXPECT_EQ(removal(0, 0), Crossing::Removed);
    EXPECT_EQ(removal(-1, 0), Crossing::Removed);
    EXPECT_EQ(removal(4, 3), Crossing::None);  // above: nothing to forget
    EXPECT_EQ(removal(0, std::nullopt), Crossing::None);
    EXPECT_EQ(to_string(Crossing::Removed), "removed");
}

TEST(BucketShare, SharesAddUpToTheThreshold) {
    for (int64_t t : {0, 1, 7, 8, 9, 1000, 1001}) {
        for (int n : {1, 2, 3, 8, 1024}) {
            int64_t sum = 0;
            for (int k = 0; k < n; ++k) {
                int64_t s = bucket_share(t, n, k);
                EXPECT_GE(s, t / n);
                EXPECT_LE(s, t / n + 1);
                sum += s;
            }
            EXPECT_EQ(sum, t) << "threshold " << t << ", buckets " << n;
        }
    }
    EXPECT_EQ(bucket_share(10, 1, 0), 10);
    EXPECT_EQ(bucket_share(10, 4, 0), 3);
    EXPECT_EQ(bucket_share(10, 4, 1), 3);
    EXPECT_EQ(bucket_share(10, 4, 2), 2);
    EXPECT_EQ(bucket_share(10, 4, 3), 2);
}

TEST(Threshold, NegativeIsRefused) {
    EXPECT_NO_THROW(require_threshold(0, "threshold"));
    try {
        require_threshold(-1, "threshold");
        FAIL() << "no error";
    } catch (const Error &e) {
        EXPECT_EQ(e.code(), Code::InvalidParameter);
        EXPECT_EQ(e.detail(), "threshold=-1");
    }
}

TEST(Payload, StockPayloadIsJson) {
    EXPECT_EQ(
        stock_payload("rice-10kg", 0, Crossing::Fell, 9, 10, 1),
        R"({"sku":"rice-10kg","bucket":0,"event":"fell","available":9,"threshold":10,"n":1})");
    EXPECT_EQ(
        stock_payload("a\"b\\c\n", 3, Crossing::Rose, 11, 2, 7),
        R"({"sku":"a\"b\\c\n","bucket":3,"event":"rose","available":11,"threshold":2,"n":7})");
}

TEST(Payload, OrderPayloadIsJson) {
    EXPECT_EQ(order_payload("o-1", std::nullopt, "pending"),
              R"({"order_ref":"o-1","from":null,"to":"pending"})");
    EXPECT_EQ(order_payload("o-\x01", std::string_view("pending"), "paid"),
              R"({"order_ref":"o-\u0001","from":"pending","to":"paid"})");
}
