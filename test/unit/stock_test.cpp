#include <limits>
#include <algorithm>
#include <functional>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "core/stock.hpp"

using namespace oc::core;

namespace {
Code code_of(const std::function<void()> &f) {
    try {
        f();
    } catch (const Error &e) {
        return e.code();
    }
    return Code::Internal;
}
std::string detail_of(const std::function<void()> &f) {
    try {
        f();
    } catch (const Error &e) {
        return e.detail();
    }
    return "no error";
}
RawItem item(std::string sku, std::string qty) {
    RawItem r;
    r.is_object = true;
    r.sku_kind = JsonKind::String;
    r.sku_chars = sku.size();
    r.sku = std::move(sku);
    r.quantity_kind = JsonKind::Number;
    r.quantity = std::move(qty);
    return r;
}
}  // namespace

TEST(StockArgs, Quantities) {
    EXPECT_NO_THROW(require_quantity(1, "quantity"));
    EXPECT_EQ(code_of([] { require_quantity(0, "quantity"); }), Code::InvalidParameter);
    EXPECT_EQ(code_of([] { require_quantity(-3, "quantity"); }), Code::InvalidParameter);
    EXPECT_NO_THROW(require_on_hand(0, "on_hand"));
    EXPECT_EQ(code_of([] { require_on_hand(-1, "on_hand"); }), Code::InvalidParameter);
    EXPECT_EQ(code_of([] { require_buckets(0, "buckets"); }), Code::InvalidParameter);
    EXPECT_EQ(code_of([] { require_buckets(kMaxBuckets + 1, "buckets"); }), Code::InvalidParameter);
    EXPECT_NO_THROW(require_buckets(kMaxBuckets, "buckets"));
    EXPECT_EQ(code_of([] { require_delta(0, "delta"); }), Code::InvalidParameter);
}

TEST(StockItems, ParsePositiveInt64) {
    EXPECT_EQ(parse_positive_int64("2"), 2);
    EXPECT_EQ(parse_positive_int64("2.000"), 2);
    EXPECT_EQ(parse_positive_int64("9223372036854775807"), INT64_MAX);
    EXPECT_FALSE(parse_positive_int64("9223372036854775808"));
    EXPECT_FALSE(parse_positive_int64("2.5"));
    EXPECT_FALSE(parse_positive_int64("0"));
    EXPECT_FALSE(parse_positive_int64("-1"));
    EXPECT_FALSE(parse_positive_int64(""));
    EXPECT_FALSE(parse_positive_int64("1e3"));
}

TEST(StockItems, ValidSortedBySku) {
    auto items = validate_items(true, {item("b", "1"), item("a", "2"), item("c", "3")});
    ASSERT_EQ(items.size(), 3u);
    EXPECT_EQ(items[0].sku, "a");
    EXPECT_EQ(items[0].quantity, 2);
    EXPECT_EQ(items[0].index, 1u);
    EXPECT_EQ(items[2].sku, "c");
}

TEST(StockItems, ErrorsNameThePath) {
    EXPECT_EQ(code_of([] { validate_items(false, {}); }), Code::InvalidParameter);
    EXPECT_EQ(code_of([] { validate_items(true, {}); }), Code::InvalidParameter);
    RawItem not_obj;
    EXPECT_EQ(detail_of([&] {
                  validate_items(true, {item("a", "1"), not_obj});
              }),
              "items[1] must be an object");
    RawItem no_sku = item("a", "1");
    no_sku.sku_kind = JsonKind::Missing;
    EXPECT_NE(detail_of([&] { validate_items(true, {no_sku}); }).find("items[0].sku"),
              std::string::npos);
    RawItem long_sku = item(std::string(201, 'x'), "1");
    EXPECT_NE(detail_of([&] { validate_items(true, {long_sku}); }).find("items[0].sku"),
              std::string::npos);
    EXPECT_NE(detail_of([&] {
                  validate_items(true, {item("a", "1"), item("b", "1"), item("c", "0")});
              }).find("items[2].quantity must be a positive integer"),
              std::string::npos);
    RawItem str_qty = item("a", "1");
    str_qty.quantity_kind = JsonKind::String;
    EXPECT_NE(detail_of([&] { validate_items(true, {str_qty}); }).find("items[0].quantity"),
              std::string::npos);
    RawItem extra = item("a", "1");
    extra.unknown_key = "x";
    EXPECT_EQ(detail_of([&] {
                  validate_items(true, {item("b", "1"), extra});
              }),
              "items[1].x is not a known field");
    EXPECT_EQ(detail_of([&] {
                  validate_items(true, {item("a", "1"), item("a", "2")});
              }),
              "items[1].sku duplicates items[0].sku (\"a\")");
}

TEST(StockBuckets, AllocationPrefersOneBucket) {
    std::vector<BucketLevel> b = {{0, 10, 8}, {1, 10, 5}, {2, 10, 0}};
    auto parts = plan_allocation("x", b, 4);
    ASSERT_EQ(parts.size(), 1u);
    EXPECT_EQ(parts[0], (Part{1, 4}));  // least that suffices
}

TEST(StockBuckets, OneBucketServesAtTheBoundary) {
    std::vector<BucketLevel> b = {{0, 10, 8}, {1, 10, 5}};
    EXPECT_TRUE((BucketLevel{0, 10, 5}).serves(5));   // exactly what is left
    EXPECT_FALSE((BucketLevel{0, 10, 5}).serves(6));  // one more
    EXPECT_TRUE((BucketLevel{0, 0, 0}).serves(0));
    EXPECT_FALSE((BucketLevel{0, 3, 4}).serves(0));  // over-reserved (never stored)
    EXPECT_TRUE(one_bucket_serves(b, 5));
    EXPECT_FALSE(one_bucket_serves(b, 6));  // 7 in all, but not in one bucket
    EXPECT_FALSE(one_bucket_serves({}, 1));
}

TEST(StockBuckets, AfterReserveAtTheBoundary) {
    auto exact = after_reserve(BucketLevel{2, 10, 5}, 5);  // exactly what is left
    ASSERT_TRUE(exact.has_value());
    EXPECT_EQ(exact->bucket, 2);
    EXPECT_EQ(exact->on_hand, 10);
    EXPECT_EQ(exact->reserved, 10);
    EXPECT_EQ(exact->available(), 0);
    EXPECT_FALSE(after_reserve(BucketLevel{0, 10, 5}, 6).has_value());  // one more
    EXPECT_FALSE(after_reserve(BucketLevel{0, 10, 5}, 0).has_value());  // nothing to reserve
    EXPECT_FALSE(after_reserve(BucketLevel{0, 3, 4}, 1).has_value());   // over-reserved
    constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
    // on_hand - reserved past bigint (never stored) is compared, not wrapped
    EXPECT_FALSE(after_reserve(BucketLevel{0, -kMax, 2}, 1).has_value());
    auto full = after_reserve(BucketLevel{0, kMax, 0}, kMax);
    ASSERT_TRUE(full.has_value());
    EXPECT_EQ(full->reserved, kMax);
    EXPECT_EQ(full->available(), 0);
}

TEST(StockBuckets, CandidatesTriedInOrder) {
    // enough units, then not busy, then the spread order, then the number
    BucketCandidate enough_busy{3, true, true, 0}, enough_free_late{1, true, false, 5},
        enough_free_early{2, true, false, 1}, short_free{0, false, false, 0};
    std::vector<BucketCandidate> c = {short_free, enough_busy, enough_free_late, enough_free_early};
    std::sort(c.begin(), c.end(), tried_before);
    EXPECT_EQ(c[0].bucket, 2);
    EXPECT_EQ(c[1].bucket, 1);
    EXPECT_EQ(c[2].bucket, 3);
    EXPECT_EQ(c[3].bucket, 0);
    EXPECT_TRUE(tried_before({1, true, false, 2}, {4, true, false, 2}));
    EXPECT_FALSE(
        tried_before({4, true, false, 2}, {1, true, false, 2}));  // same rank: lower number
    EXPECT_EQ(spread_rank(5, 4, 8), 1);
    EXPECT_EQ(spread_rank(0, 0, 1), 0);
    EXPECT_EQ(spread_rank(7, 2147483647, 8), static_cast<int>((7LL + 2147483647LL) % 8));
}

TEST(StockBuckets, AllocationSpansBuckets) {
    std::vector<BucketLevel> b = {{0, 10, 8}, {1, 10, 5}, {2, 10, 4}};
    auto parts = plan_allocation("x", b, 9);
    ASSERT_EQ(parts.size(), 2u);
    EXPECT_EQ(parts[0], (Part{1, 3}));
    EXPECT_EQ(parts[1], (Part{2, 6}));
    int64_t sum = 0;
    for (auto &p : plan_allocation("x", b, 13)) sum += p.quantity;
    EXPECT_EQ(sum, 13);
}

TEST(StockBuckets, AllocationRefusesWithNumbers) {
    std::vector<BucketLevel> b = {{0, 10, 8}, {1, 10, 9}};
    EXPECT_EQ(code_of([&] { plan_allocation("x", b, 4); }), Code::InsufficientStock);
    EXPECT_EQ(detail_of([&] { plan_allocation("x", b, 4); }),
              "available=3, requested=4, on_hand=20, reserved=17");
}

TEST(StockBuckets, LayoutKeepsEveryUnit) {
    std::vector<BucketLevel> old = {{0, 19, 5}, {1, 19, 0}, {2, 19, 7}, {3, 19, 0},
                                    {4, 19, 1}, {5, 19, 0}, {6, 18, 2}, {7, 18, 0}};
    auto l = plan_layout("x", old, 3, 150);
    ASSERT_EQ(l.size(), 3u);
    StockLevel t = total(l);
    EXPECT_EQ(t.on_hand, 150);
    EXPECT_EQ(t.reserved, 15);
    // reserved follows remap_bucket: 0,3,6 -> 0; 1,4,7 -> 1; 2,5 -> 2
    EXPECT_EQ(l[0].reserved, 7);
    EXPECT_EQ(l[1].reserved, 1);
    EXPECT_EQ(l[2].reserved, 7);
    for (auto &b : l) EXPECT_GE(b.available(), 45);
    auto grow = plan_layout("x", l, 8, 150);
    EXPECT_EQ(total(grow).on_hand, 150);
    EXPECT_EQ(total(grow).reserved, 15);
    EXPECT_EQ(grow[0].reserved, 7);  // b % 8 == b: parts stay put
}

TEST(StockBuckets, LayoutRefusesBelowReserved) {
    std::vector<BucketLevel> old = {{0, 10, 6}};
    EXPECT_EQ(code_of([&] { plan_layout("x", old, 1, 5); }), Code::InsufficientStock);
    EXPECT_NO_THROW(plan_layout("x", old, 4, 6));
}

TEST(StockLevels, Adjust) {
    StockLevel l{10, 4};
    EXPECT_EQ(check_adjust("x", l, 5), 15);
    EXPECT_EQ(check_adjust("x", l, -6), 4);
    EXPECT_EQ(code_of([&] { check_adjust("x", l, -7); }), Code::InsufficientStock);
    StockLevel big{INT64_MAX - 1, 0};
    EXPECT_EQ(code_of([&] { check_adjust("x", big, 2); }), Code::InvalidParameter);
}

TEST(StockReservations, Transitions) {
    Reservation r{"o", "s", 2, ReservationStatus::Active, false};
    EXPECT_EQ(decide_commit(r), StockAction::Commit);
    EXPECT_EQ(decide_release(r), StockAction::Release);
    r.expired = true;
    EXPECT_EQ(effective_status(r), ReservationStatus::Expired);
    EXPECT_EQ(code_of([&] { decide_commit(r); }), Code::Expired);
    EXPECT_EQ(decide_release(r), StockAction::Expire);
    r = {"o", "s", 2, ReservationStatus::Committed, false};
    EXPECT_EQ(decide_commit(r), StockAction::Replay);
    EXPECT_EQ(code_of([&] { decide_release(r); }), Code::InvalidState);
    r.status = ReservationStatus::Released;
    EXPECT_EQ(code_of([&] { decide_commit(r); }), Code::InvalidState);
    EXPECT_EQ(decide_release(r), StockAction::Replay);
    r.status = ReservationStatus::Expired;
    EXPECT_EQ(code_of([&] { decide_commit(r); }), Code::Expired);
    EXPECT_EQ(decide_release(r), StockAction::Replay);
    EXPECT_EQ(parse_reservation_status("committed"), ReservationStatus::Committed);
    EXPECT_EQ(code_of([] { parse_reservation_status("junk"); }), Code::Internal);
}

TEST(StockReservations, Replay) {
    Reservation r{"o", "s", 2, ReservationStatus::Active, false};
    EXPECT_NO_THROW(check_reserve_replay(r, 2, true));
    EXPECT_EQ(code_of([&] { check_reserve_replay(r, 3, true); }), Code::IdempotencyMismatch);
    EXPECT_EQ(code_of([&] { check_reserve_replay(r, 2, false); }), Code::IdempotencyMismatch);
}
