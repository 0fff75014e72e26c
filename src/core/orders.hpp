// Order lifecycle rules: pending -> paid -> processing -> shipped ->
// delivered, cancellation from pending/paid/processing, expiry of pending
// orders; and validation of the items document of place_order.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/money.hpp"

namespace oc::core {

enum class OrderStatus { Pending, Paid, Processing, Shipped, Delivered, Cancelled, Expired };
std::string_view to_string(OrderStatus s) noexcept;
std::optional<OrderStatus> parse_order_status(std::string_view s) noexcept;

// What the caller of set_order_status may ask for next: one step forward.
// Returns true when `to` equals `from` (a replay: nothing to do). Throws
// InvalidState for any other transition, InvalidParameter for a status
// set_order_status cannot set (pending, cancelled, expired).
bool check_step(std::string_view order_ref, OrderStatus from, OrderStatus to);

// cancel_order: what has to be undone.
enum class CancelKind { Replay, ReleaseReservations, Restock };
CancelKind decide_cancel(std::string_view order_ref, OrderStatus effective);

// confirm_order: true = already paid (replay); throws OC007/OC008 otherwise.
bool decide_confirm(std::string_view order_ref, OrderStatus effective);

// One element of place_order's items array, as read from jsonb with the
// JSON type of each field ("string", "number", ... or "" when absent).
struct RawOrderItem {
    std::string element_type;
    std::string sku_type, sku;
    size_t sku_chars = 0;
    std::string quantity_type, quantity;
    std::string price_type, price;
    std::vector<std::string> unknown_keys;
};

struct OrderItem {
    std::string sku;
    int64_t quantity;
    Money unit_price;
};

// Validates the items; errors are 22023 naming the path ("items[2].quantity").
// Duplicate SKUs are refused. Returns the items and their total.
std::vector<OrderItem> validate_order_items(const std::vector<RawOrderItem> &raw, Money *total);

}  // namespace oc::core
