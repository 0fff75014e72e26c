// Unit tests of core::Pace, the pacing of expire_due calls
// (order_credit.expire_max_rate).
#include <gtest/gtest.h>

#include <cstdint>

#include "core/pace.hpp"

namespace {

using oc::core::Pace;

TEST(Pace, NothingSpentNothingToWait) {
    Pace p;
    EXPECT_EQ(p.pause_us(0), 0);
    EXPECT_EQ(p.pause_us(123456789), 0);
}

TEST(Pace, WaitsForTheRestOfTheCallsShare) {
    Pace p;
    p.spent(0, 10000, 100000);  // 10,000 rows at 100,000/s: 100 ms from the start
    EXPECT_EQ(p.pause_us(20000), 80000);
    EXPECT_EQ(p.pause_us(100000), 0);
    EXPECT_EQ(p.pause_us(250000), 0);
}

TEST(Pace, CallsAddUpFromTheLaterOfDebtAndStart) {
    Pace p;
    p.spent(0, 1000, 10000);      // until 100 ms
    p.spent(50000, 1000, 10000);  // started early (in the same transaction): until 200 ms
    EXPECT_EQ(p.pause_us(60000), 140000);
    Pace q;
    q.spent(0, 1000, 10000);
    q.spent(500000, 1000, 10000);  // started after the debt was paid: until 600 ms
    EXPECT_EQ(q.pause_us(510000), 90000);
}

TEST(Pace, ASlowCallLeavesNothing) {
    Pace p;
    p.spent(0, 100, 1000);  // 100 ms share, the call itself ran 300 ms
    EXPECT_EQ(p.pause_us(300000), 0);
}

TEST(Pace, RateZeroIsUnpacedAndDropsTheDebt) {
    Pace p;
    p.spent(0, 1000, 10);
    EXPECT_GT(p.pause_us(1), 0);
    p.spent(2, 1000, 0);
    EXPECT_EQ(p.pause_us(3), 0);
    p.spent(4, 1000, -5);
    EXPECT_EQ(p.pause_us(5), 0);
}

TEST(Pace, NoRowsCostNothing) {
    Pace p;
    p.spent(0, 0, 10);
    EXPECT_EQ(p.pause_us(1), 0);
}

TEST(Pace, PauseAndDebtAreBounded) {
    Pace p;
    p.spent(0, INT64_MAX, 1);
    EXPECT_EQ(p.pause_us(0), Pace::kMaxPauseUs);
    EXPECT_LE(p.pause_us(Pace::kMaxPauseUs), Pace::kMaxPauseUs);
    EXPECT_EQ(p.pause_us(2 * Pace::kMaxPauseUs), 0);       // at most two maximal pauses' worth
    for (int i = 0; i < 100; ++i) p.spent(i, 1000000, 1);  // many big calls in a row
    EXPECT_EQ(p.pause_us(100), Pace::kMaxPauseUs);
    EXPECT_EQ(p.pause_us(100 + 2 * Pace::kMaxPauseUs), 0);
}

}  // namespace
