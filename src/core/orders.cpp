#include "core/orders.hpp"

#include <fmt/format.h>

#include <limits>
#include <set>

#include "core/error.hpp"
#include "core/keys.hpp"

namespace oc::core {

std::string_view to_string(OrderStatus s) noexcept {
    switch (s) {
        case OrderStatus::Pending:
            return "pending";
        case OrderStatus::Paid:
            return "paid";
        case OrderStatus::Processing:
            return "processing";
        case OrderStatus::Shipped:
            return "shipped";
        case OrderStatus::Delivered:
            return "delivered";
        case OrderStatus::Cancelled:
            return "cancelled";
        case OrderStatus::Expired:
            return "expired";
    }
    return "pending";
}

std::optional<OrderStatus> parse_order_status(std::string_view s) noexcept {
    for (auto st :
         {OrderStatus::Pending, OrderStatus::Paid, OrderStatus::Processing, OrderStatus::Shipped,
          OrderStatus::Delivered, OrderStatus::Cancelled, OrderStatus::Expired})
        if (to_string(st) == s) return st;
    return std::nullopt;
}

bool check_step(std::string_view order_ref, OrderStatus from, OrderStatus to) {
    if (to != OrderStatus::Processing && to != OrderStatus::Shipped &&
        to != OrderStatus::Delivered && to != OrderStatus::Paid) {
        throw Error(Code::InvalidParameter,
                    fmt::format("set_order_status cannot set status \"{}\"", to_string(to)), {},
                    "Use confirm_order() to pay, cancel_order() to cancel.");
    }
    if (from == to) return true;
    bool next = (from == OrderStatus::Paid && to == OrderStatus::Processing) ||
                (from == OrderStatus::Processing && to == OrderStatus::Shipped) ||
                (from == OrderStatus::Shipped && to == OrderStatus::Delivered);
    if (!next) {
        throw Error(Code::InvalidState,
                    fmt::format("order \"{}\" cannot go from {} to {}", order_ref, to_string(from),
                                to_string(to)),
                    fmt::format("status={}, requested={}", to_string(from), to_string(to)),
                    "Orders move paid -> processing -> shipped -> delivered, one step at a "
                    "time; pending orders are paid with confirm_order().");
    }
    return false;
}

CancelKind decide_cancel(std::string_view order_ref, OrderStatus s) {
    switch (s) {
        case OrderStatus::Pending:
            return CancelKind::ReleaseReservations;
        case OrderStatus::Paid:
        case OrderStatus::Processing:
            return CancelKind::Restock;
        case OrderStatus::Cancelled:
            return CancelKind::Replay;
        default:
            throw Error(Code::InvalidState,
                        fmt::format("order \"{}\" cannot be cancelled", order_ref),
                        fmt::format("status={}", to_string(s)),
                        "Only pending, paid and processing orders can be cancelled.");
    }
}

bool decide_confirm(std::string_view order_ref, OrderStatus s) {
    switch (s) {
        case OrderStatus::Pending:
            return false;
        case OrderStatus::Expired:
            throw Error(Code::Expired, fmt::format("order \"{}\" has expired", order_ref),
                        "status=expired", "Place the order again.");
        case OrderStatus::Cancelled:
            throw Error(Code::InvalidState, fmt::format("order \"{}\" was cancelled", order_ref),
                        "status=cancelled");
        default:
            return true;  // paid or later: already confirmed
    }
}

namespace {
[[noreturn]] void bad_item(size_t i, std::string_view field, std::string_view what) {
    std::string path =
        field.empty() ? fmt::format("items[{}]", i) : fmt::format("items[{}].{}", i, field);
    throw Error(Code::InvalidParameter, fmt::format("invalid items: {} {}", path, what),
                fmt::format("path={}", path),
                "items is a JSON array of {\"sku\": text, \"quantity\": integer > 0, "
                "\"unit_price\": number >= 0}.");
}

int64_t parse_quantity(const std::string &s, bool *ok) {
    *ok = false;
    if (s.empty() || s.size() > 19) return 0;
    int64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return 0;
        if (v > (std::numeric_limits<int64_t>::max() - (c - '0')) / 10) return 0;
        v = v * 10 + (c - '0');
    }
    *ok = v > 0;
    return v;
}
}  // namespace

std::vector<OrderItem> validate_order_items(const std::vector<RawOrderItem> &raw, Money *total) {
    if (raw.empty())
        throw Error(Code::InvalidParameter, "invalid items: the array is empty", "path=items",
                    "An order needs at least one item.");
    std::vector<OrderItem> items;
    std::set<std::string> seen;
    Money sum;
    for (size_t i = 0; i < raw.size(); ++i) {
        const RawOrderItem &r = raw[i];
        if (r.element_type != "object") bad_item(i, "", "must be an object");
        if (!r.unknown_keys.empty()) bad_item(i, r.unknown_keys.front(), "is not a known field");
        if (r.sku_type != "string") bad_item(i, "sku", "must be a string");
        if (r.sku_chars == 0 || r.sku_chars > kMaxKeyChars)
            bad_item(i, "sku", fmt::format("must be 1 to {} characters long", kMaxKeyChars));
        if (!seen.insert(r.sku).second)
            bad_item(i, "sku", fmt::format("repeats SKU \"{}\" (list each SKU once)", r.sku));
        bool ok = false;
        int64_t q = r.quantity_type == "number" ? parse_quantity(r.quantity, &ok) : 0;
        if (!ok) bad_item(i, "quantity", "must be a positive integer within bigint range");
        std::optional<Money> price;
        if (r.price_type == "number") price = Money::parse(r.price);
        if (!price || price->is_negative())
            bad_item(i, "unit_price", "must be a number >= 0 with at most 4 decimal places");
        // Bound each line to 10^24 units before multiplying, so neither the
        // product nor the sum of lines can overflow 128 bits.
        const __int128 max_line_ticks =
            static_cast<__int128>(1000000000000LL) * 1000000000000LL * Money::kUnit;
        if (price->ticks() != 0 && static_cast<__int128>(q) > max_line_ticks / price->ticks())
            bad_item(i, "", "line total (quantity * unit_price) is too large");
        Money line = *price * q;
        sum = sum + line;
        items.push_back(OrderItem{r.sku, q, *price});
    }
    *total = sum;
    return items;
}

}  // namespace oc::core
