// Unit tests of the lifecycle of finished rows (core/lifecycle.hpp): which
// rows order_credit.purge() may delete, and when.
#include <gtest/gtest.h>

#include "core/lifecycle.hpp"

namespace {

using namespace oc::core;

TEST(Lifecycle, FinishedOrders) {
    EXPECT_TRUE(order_finished("delivered"));
    EXPECT_TRUE(order_finished("cancelled"));
    EXPECT_TRUE(order_finished("expired"));
    // Each of these can still move: confirm, cancel (reverses credit), deliver.
    EXPECT_FALSE(order_finished("pending"));
    EXPECT_FALSE(order_finished("paid"));
    EXPECT_FALSE(order_finished("processing"));
    EXPECT_FALSE(order_finished("shipped"));
}

TEST(Lifecycle, FinishedHolds) {
    EXPECT_TRUE(hold_finished("captured"));
    EXPECT_TRUE(hold_finished("voided"));
    EXPECT_TRUE(hold_finished("expired"));
    EXPECT_TRUE(hold_finished("reversed"));
    EXPECT_FALSE(hold_finished("pending"));
}

TEST(Lifecycle, FinishedReservations) {
    EXPECT_TRUE(reservation_finished("committed", false, false));
    EXPECT_TRUE(reservation_finished("released", false, false));
    EXPECT_TRUE(reservation_finished("expired", false, false));
    // Active past expiry counts only once expire_due deleted its claim.
    EXPECT_TRUE(reservation_finished("active", true, false));
    EXPECT_FALSE(reservation_finished("active", true, true));
    EXPECT_FALSE(reservation_finished("active", false, false));
    EXPECT_FALSE(reservation_finished("active", false, true));
}

TEST(Lifecycle, RetentionIsNeverShorterThanTheIdempotencyTtl) {
    EXPECT_EQ(finished_retention_s(30 * 86400, 86400), 30 * 86400);
    EXPECT_EQ(finished_retention_s(60, 86400), 86400);
    EXPECT_EQ(finished_retention_s(0, 86400), 0);  // 0: kept forever
    EXPECT_EQ(finished_retention_s(-1, 86400), 0);
}

TEST(Lifecycle, Purgeable) {
    EXPECT_TRUE(purgeable(true, 101, 100));
    EXPECT_FALSE(purgeable(true, 100, 100));
    EXPECT_FALSE(purgeable(true, 99, 100));
    EXPECT_FALSE(purgeable(false, 1000, 100));
    EXPECT_FALSE(purgeable(true, 1000000, 0));
}

TEST(Lifecycle, SqlLists) {
    EXPECT_EQ(finished_order_statuses_sql(), "'delivered', 'cancelled', 'expired'");
    EXPECT_EQ(finished_hold_statuses_sql(), "'captured', 'voided', 'expired', 'reversed'");
    EXPECT_EQ(finished_reservation_statuses_sql(), "'committed', 'released', 'expired'");
}

}  // namespace
