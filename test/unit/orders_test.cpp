#include <gtest/gtest.h>

#include <functional>

#include "core/error.hpp"
#include "core/orders.hpp"

using namespace oc::core;

namespace {

RawOrderItem item(std::string sku, std::string qty, std::string price) {
    RawOrderItem r;
    r.element_type = "object";
    r.sku_type = "string";
    r.sku = sku;
    r.sku_chars = sku.size();
    r.quantity_type = "number";
    r.quantity = qty;
    r.price_type = "number";
    r.price = price;
    return r;
}

Code code_of(const std::function<void()> &f) {
    try {
        f();
    } catch (const Error &e) {
        return e.code();
    }
    return Code::Internal;  // "did not throw"
}

std::string detail_of(const std::function<void()> &f) {
    try {
        f();
    } catch (const Error &e) {
        return e.detail();
    }
    return "did not throw";
}

}  // namespace

TEST(OrderItems, TotalsAndParsing) {
    Money total;
    auto items = validate_order_items({item("a", "2", "10.5"), item("b", "3", "0.0001")}, &total);
    ASSERT_EQ(items.size(), 2u);
    EXPECT_EQ(items[0].quantity, 2);
    EXPECT_EQ(total.to_string(), "21.0003");
}

TEST(OrderItems, FreeItemAllowed) {
    Money total;
    validate_order_items({item("gift", "1", "0")}, &total);
    EXPECT_TRUE(total.is_zero());
}

TEST(OrderItems, RejectsWithPath) {
    Money t;
    EXPECT_EQ(code_of([&] { validate_order_items({}, &t); }), Code::InvalidParameter);
    EXPECT_EQ(detail_of([&] { validate_order_items({item("a", "0", "1")}, &t); }),
              "path=items[0].quantity");
    EXPECT_EQ(detail_of([&] {
                  validate_order_items({item("a", "1", "1"), item("b", "-1", "1")}, &t);
              }),
              "path=items[1].quantity");
    EXPECT_EQ(detail_of([&] { validate_order_items({item("a", "1.5", "1")}, &t); }),
              "path=items[0].quantity");
    EXPECT_EQ(detail_of([&] { validate_order_items({item("a", "9223372036854775808", "1")}, &t); }),
              "path=items[0].quantity");
    EXPECT_EQ(detail_of([&] { validate_order_items({item("a", "1", "-1")}, &t); }),
              "path=items[0].unit_price");
    EXPECT_EQ(detail_of([&] { validate_order_items({item("a", "1", "0.00001")}, &t); }),
              "path=items[0].unit_price");
    EXPECT_EQ(detail_of([&] { validate_order_items({item("", "1", "1")}, &t); }),
              "path=items[0].sku");
    EXPECT_EQ(detail_of([&] { validate_order_items({item(std::string(201, 'x'), "1", "1")}, &t); }),
              "path=items[0].sku");
    EXPECT_EQ(detail_of([&] {
                  validate_order_items({item("a", "1", "1"), item("a", "2", "1")}, &t);
              }),
              "path=items[1].sku");
    auto r = item("a", "1", "1");
    r.element_type = "array";
    EXPECT_EQ(detail_of([&] { validate_order_items({r}, &t); }), "path=items[0]");
    r = item("a", "1", "1");
    r.unknown_keys = {"qty"};
    EXPECT_EQ(detail_of([&] { validate_order_items({r}, &t); }), "path=items[0].qty");
    r = item("a", "1", "1");
    r.quantity_type = "string";
    EXPECT_EQ(detail_of([&] { validate_order_items({r}, &t); }), "path=items[0].quantity");
}

TEST(OrderItems, HugeLineTotalRefusedWithoutOverflow) {
    Money t;
    EXPECT_EQ(code_of([&] {
                  validate_order_items(
                      {item("a", "9223372036854775807", "999999999999999999999999")}, &t);
              }),
              Code::InvalidParameter);
}

TEST(OrderLifecycle, OneStepAtATime) {
    EXPECT_FALSE(check_step("o", OrderStatus::Paid, OrderStatus::Processing));
    EXPECT_FALSE(check_step("o", OrderStatus::Processing, OrderStatus::Shipped));
    EXPECT_FALSE(check_step("o", OrderStatus::Shipped, OrderStatus::Delivered));
    EXPECT_TRUE(check_step("o", OrderStatus::Shipped, OrderStatus::Shipped));
    EXPECT_EQ(code_of([] { check_step("o", OrderStatus::Paid, OrderStatus::Shipped); }),
              Code::InvalidState);
    EXPECT_EQ(code_of([] { check_step("o", OrderStatus::Pending, OrderStatus::Processing); }),
              Code::InvalidState);
    EXPECT_EQ(code_of([] { check_step("o", OrderStatus::Delivered, OrderStatus::Shipped); }),
              Code::InvalidState);
    EXPECT_EQ(code_of([] { check_step("o", OrderStatus::Paid, OrderStatus::Cancelled); }),
              Code::InvalidParameter);
}

TEST(OrderLifecycle, ConfirmAndCancel) {
    EXPECT_FALSE(decide_confirm("o", OrderStatus::Pending));
    EXPECT_TRUE(decide_confirm("o", OrderStatus::Paid));
    EXPECT_EQ(code_of([] { decide_confirm("o", OrderStatus::Expired); }), Code::Expired);
    EXPECT_EQ(code_of([] { decide_confirm("o", OrderStatus::Cancelled); }), Code::InvalidState);
    EXPECT_EQ(decide_cancel("o", OrderStatus::Pending), CancelKind::ReleaseReservations);
    EXPECT_EQ(decide_cancel("o", OrderStatus::Paid), CancelKind::Restock);
    EXPECT_EQ(decide_cancel("o", OrderStatus::Processing), CancelKind::Restock);
    EXPECT_EQ(decide_cancel("o", OrderStatus::Cancelled), CancelKind::Replay);
    EXPECT_EQ(code_of([] { decide_cancel("o", OrderStatus::Shipped); }), Code::InvalidState);
    EXPECT_EQ(code_of([] { decide_cancel("o", OrderStatus::Expired); }), Code::InvalidState);
}

TEST(OrderLifecycle, StatusNamesRoundTrip) {
    for (auto s :
         {OrderStatus::Pending, OrderStatus::Paid, OrderStatus::Processing, OrderStatus::Shipped,
          OrderStatus::Delivered, OrderStatus::Cancelled, OrderStatus::Expired})
        EXPECT_EQ(parse_order_status(to_string(s)), s);
    EXPECT_FALSE(parse_order_status("bogus").has_value());
}
