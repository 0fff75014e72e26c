#include "core/stock.hpp"

#include <algorithm>
#include <limits>
#include <map>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/keys.hpp"

namespace oc::core {

namespace {
[[noreturn]] void bad(std::string message, std::string detail = {}, std::string hint = {}) {
    throw Error(Code::InvalidParameter, std::move(message), std::move(detail), std::move(hint));
}
}  // namespace

void require_quantity(int64_t quantity, std::string_view what) {
    if (quantity <= 0)
        bad(fmt::format("{} must be a positive integer", what),
            fmt::format("{}={}", what, quantity));
}

void require_on_hand(int64_t on_hand, std::string_view what) {
    if (on_hand < 0)
        bad(fmt::format("{} must not be negative", what), fmt::format("{}={}", what, on_hand));
}

void require_buckets(int64_t buckets, std::string_view what) {
    if (buckets < 1 || buckets > kMaxBuckets)
        bad(fmt::format("{} must be between 1 and {}", what, kMaxBuckets),
            fmt::format("{}={}", what, buckets));
}

void require_delta(int64_t delta, std::string_view what) {
    if (delta == 0)
        bad(fmt::format("{} must not be zero", what), fmt::format("{}=0", what),
            "Pass a positive delta for receipts and returns, a negative one for shrinkage.");
}

// ------------------------------------------------------------ items document

std::optional<int64_t> parse_positive_int64(std::string_view s) noexcept {
    if (s.empty()) return std::nullopt;
    size_t i = 0;
    if (s[0] == '-') return std::nullopt;
    if (s[0] == '+') ++i;
    __int128 v = 0;
    bool digit = false;
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
        digit = true;
        v = v * 10 + (s[i] - '0');
        if (v > std::numeric_limits<int64_t>::max()) return std::nullopt;
    }
    if (i < s.size() && s[i] == '.') {  // "2.000" is an integer, "2.5" is not
        for (++i; i < s.size() && s[i] == '0'; ++i) {
        }
    }
    if (!digit || i != s.size() || v <= 0) return std::nullopt;
    return static_cast<int64_t>(v);
}

std::vector<Item> validate_items(bool is_array, const std::vector<RawItem> &raw) {
    const char *shape = "Pass a JSON array such as [{\"sku\": \"rice-10kg\", \"quantity\": 2}].";
    if (!is_array) bad("items must be a JSON array", "items is not an array", shape);
    if (raw.empty()) bad("items must not be empty", "items has no element", shape);
    std::vector<Item> items;
    items.reserve(raw.size());
    std::map<std::string, size_t> seen;
    for (size_t i = 0; i < raw.size(); ++i) {
        const RawItem &r = raw[i];
        if (!r.is_object)
            bad("invalid items document", fmt::format("items[{}] must be an object", i), shape);
        if (!r.unknown_key.empty())
            bad("invalid items document",
                fmt::format("items[{}].{} is not a known field", i, r.unknown_key), shape);
        if (r.sku_kind != JsonKind::String || r.sku_chars == 0 || r.sku_chars > kMaxKeyChars)
            bad("invalid items document",
                fmt::format("items[{}].sku must be a string of 1 to {} characters", i,
                            kMaxKeyChars),
                shape);
        std::optional<int64_t> q;
        if (r.quantity_kind == JsonKind::Number) q = parse_positive_int64(r.quantity);
        if (!q)
            bad("invalid items document",
                fmt::format("items[{}].quantity must be a positive integer (at most {})", i,
                            std::numeric_limits<int64_t>::max()),
                shape);
        auto [it, fresh] = seen.emplace(r.sku, i);
        if (!fresh)
            bad("invalid items document",
                fmt::format("items[{}].sku duplicates items[{}].sku (\"{}\")", i, it->second,
                            r.sku),
                "List each SKU once with the total quantity.");
        items.push_back(Item{r.sku, *q, i});
    }
    std::sort(items.begin(), items.end(),
              [](const Item &a, const Item &b) { return a.sku < b.sku; });
    return items;
}

// ------------------------------------------------------------ buckets

StockLevel total(const std::vector<BucketLevel> &buckets) {
    StockLevel t;
    for (const auto &b : buckets) {
        t.on_hand += b.on_hand;
        t.reserved += b.reserved;
    }
    return t;
}

std::string stock_detail(const StockLevel &level, std::optional<int64_t> requested) {
    std::string d = fmt::format("available={}", level.available());
    if (requested) d += fmt::format(", requested={}", *requested);
    d += fmt::format(", on_hand={}, reserved={}", level.on_hand, level.reserved);
    return d;
}

namespace {
[[noreturn]] void insufficient(std::string_view sku, const StockLevel &level, int64_t requested) {
    throw Error(Code::InsufficientStock, fmt::format("insufficient stock of \"{}\"", sku),
                stock_detail(level, requested),
                "Reduce the quantity or wait for reservations to be released.");
}
}  // namespace

int spread_rank(int bucket, int offset, int buckets) noexcept {
    if (buckets <= 0) return 0;
    return static_cast<int>((static_cast<int64_t>(bucket) + offset) % buckets);
}

bool tried_before(const BucketCandidate &a, const BucketCandidate &b) noexcept {
    if (a.enough != b.enough) return a.enough;
    if (a.busy != b.busy) return !a.busy;
    if (a.rank != b.rank) return a.rank < b.rank;
    return a.bucket < b.bucket;
}

bool one_bucket_serves(const std::vector<BucketLevel> &buckets, int64_t quantity) {
    for (const auto &b : buckets)
        if (b.serves(quantity)) return true;
    return false;
}

std::vector<Part> plan_allocation(std::string_view sku, const std::vector<BucketLevel> &buckets,
                                  int64_t quantity) {
    StockLevel t = total(buckets);
    if (quantity <= 0) throw Error(Code::Internal, "allocation of a non-positive quantity");
    if (t.available() < quantity) insufficient(sku, t, quantity);
    const BucketLevel *best = nullptr;
    for (const auto &b : buckets)
        if (b.serves(quantity) && (best == nullptr || b.available() < best->available())) best = &b;
    if (best != nullptr) return {Part{best->bucket, quantity}};
    std::vector<const BucketLevel *> order;
    for (const auto &b : buckets)
        if (b.available() > 0) order.push_back(&b);
    std::stable_sort(order.begin(), order.end(), [](const BucketLevel *a, const BucketLevel *b) {
        return a->available() > b->available();
    });
    std::vector<Part> parts;
    int64_t left = quantity;
    for (const BucketLevel *b : order) {
        int64_t take = std::min(left, b->available());
        parts.push_back(Part{b->bucket, take});
        left -= take;
        if (left == 0) break;
    }
    std::sort(parts.begin(), parts.end(),
              [](const Part &a, const Part &b) { return a.bucket < b.bucket; });
    return parts;
}

std::vector<BucketLevel> plan_layout(std::string_view sku, const std::vector<BucketLevel> &old,
                                     int n, int64_t on_hand) {
    if (n < 1 || n > kMaxBuckets) throw Error(Code::Internal, "bucket count out of range");
    if (on_hand < 0) throw Error(Code::Internal, "negative on_hand in a layout");
    std::vector<BucketLevel> out;
    out.reserve(static_cast<size_t>(n));
    for (int k = 0; k < n; ++k) out.push_back(BucketLevel{k, 0, 0});
    int64_t reserved = 0;
    for (const auto &b : old) {
        if (b.bucket < 0) throw Error(Code::Internal, "negative bucket number");
        out[static_cast<size_t>(remap_bucket(b.bucket, n))].reserved += b.reserved;
        reserved += b.reserved;
    }
    if (on_hand < reserved) {
        StockLevel level = total(old);
        throw Error(Code::InsufficientStock,
                    fmt::format("on_hand of \"{}\" cannot go below what is reserved", sku),
                    fmt::format("reserved={}, requested on_hand={}, on_hand={}", reserved, on_hand,
                                level.on_hand),
                    "Release or commit reservations first.");
    }
    int64_t free_units = on_hand - reserved;
    int64_t share = free_units / n, extra = free_units % n;
    for (int k = 0; k < n; ++k) {
        BucketLevel &b = out[static_cast<size_t>(k)];
        b.on_hand = b.reserved + share + (k < extra ? 1 : 0);
    }
    return out;
}

std::optional<BucketLevel> after_reserve(const BucketLevel &level, int64_t quantity) noexcept {
    __int128 available = static_cast<__int128>(level.on_hand) - level.reserved;
    if (quantity <= 0 || available < quantity) return std::nullopt;
    return BucketLevel{level.bucket, level.on_hand, level.reserved + quantity};
}

int64_t check_adjust(std::string_view sku, const StockLevel &level, int64_t delta) {
    __int128 next = static_cast<__int128>(level.on_hand) + delta;
    if (next > std::numeric_limits<int64_t>::max())
        bad(fmt::format("on_hand of \"{}\" would exceed the bigint range", sku),
            fmt::format("on_hand={}, delta={}", level.on_hand, delta));
    if (next < level.reserved) {
        throw Error(
            Code::InsufficientStock,
            fmt::format("adjustment would take the available stock of \"{}\" below zero", sku),
            fmt::format("available={}, delta={}, on_hand={}, reserved={}", level.available(), delta,
                        level.on_hand, level.reserved),
            "Release or commit reservations first, or adjust by less.");
    }
    return static_cast<int64_t>(next);
}

// ------------------------------------------------------------ reservations

std::string_view to_string(ReservationStatus s) noexcept {
    switch (s) {
        case ReservationStatus::Active:
            return "active";
        case ReservationStatus::Committed:
            return "committed";
        case ReservationStatus::Released:
            return "released";
        case ReservationStatus::Expired:
            return "expired";
    }
    return "active";
}

ReservationStatus parse_reservation_status(std::string_view s) {
    if (s == "active") return ReservationStatus::Active;
    if (s == "committed") return ReservationStatus::Committed;
    if (s == "released") return ReservationStatus::Released;
    if (s == "expired") return ReservationStatus::Expired;
    throw Error(Code::Internal, fmt::format("unknown reservation status \"{}\"", s));
}

ReservationStatus effective_status(const Reservation &r) noexcept {
    if (r.status == ReservationStatus::Active && r.expired) return ReservationStatus::Expired;
    return r.status;
}

void check_reserve_replay(const Reservation &existing, int64_t quantity, bool same_ttl) {
    if (existing.quantity == quantity && same_ttl) return;
    throw Error(Code::IdempotencyMismatch,
                fmt::format("order_ref \"{}\" already has a reservation of \"{}\" with other "
                            "arguments",
                            existing.order_ref, existing.sku),
                fmt::format("existing: quantity={}; requested: quantity={}{}", existing.quantity,
                            quantity, same_ttl ? "" : " (expires_in differs)"),
                "Use a new order_ref for a different request.");
}

StockAction decide_commit(const Reservation &r) {
    switch (effective_status(r)) {
        case ReservationStatus::Active:
            return StockAction::Commit;
        case ReservationStatus::Committed:
            return StockAction::Replay;
        case ReservationStatus::Expired:
            throw Error(Code::Expired,
                        fmt::format("reservation of \"{}\" for order_ref \"{}\" has expired", r.sku,
                                    r.order_ref),
                        fmt::format("sku={}, quantity={}", r.sku, r.quantity),
                        "Reserve the stock again with order_credit.reserve_stock().");
        case ReservationStatus::Released:
            throw Error(Code::InvalidState,
                        fmt::format("cannot commit the reservation of \"{}\" for order_ref \"{}\"",
                                    r.sku, r.order_ref),
                        fmt::format("status=released, sku={}, quantity={}", r.sku, r.quantity));
    }
    throw Error(Code::Internal, "unreachable reservation status");
}

StockAction decide_release(const Reservation &r) {
    switch (r.status) {
        case ReservationStatus::Active:
            return r.expired ? StockAction::Expire : StockAction::Release;
        case ReservationStatus::Released:
        case ReservationStatus::Expired:
            return StockAction::Replay;
        case ReservationStatus::Committed:
            throw Error(Code::InvalidState,
                        fmt::format("cannot release the reservation of \"{}\" for order_ref "
                                    "\"{}\": it is committed",
                                    r.sku, r.order_ref),
                        fmt::format("status=committed, sku={}, quantity={}", r.sku, r.quantity),
                        "Return sold units with order_credit.adjust_stock().");
    }
    throw Error(Code::Internal, "unreachable reservation status");
}

}  // namespace oc::core
