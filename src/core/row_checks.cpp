#include "core/row_checks.hpp"

#include <initializer_list>

namespace oc::core {
namespace {

using Result = std::optional<RowViolation>;

RowViolation broken(std::string_view table, std::string_view rule, std::string message) {
    return RowViolation{std::string(table) + "_" + std::string(rule) + "_check",
                        std::move(message)};
}

// char_length(column) BETWEEN lo AND hi
Result chars_between(std::string_view table, const RowView &r, std::string_view col, int64_t lo,
                     int64_t hi) {
    if (r.is_null(col)) return std::nullopt;
    int64_t n = r.chars(col);
    if (n >= lo && n <= hi) return std::nullopt;
    return broken(table, col,
                  std::string(col) + " must be " + std::to_string(lo) + " to " +
                      std::to_string(hi) + " characters long, not " + std::to_string(n));
}

// column IN (values...)
Result one_of(std::string_view table, const RowView &r, std::string_view col,
              std::initializer_list<std::string_view> values) {
    if (r.is_null(col)) return std::nullopt;
    std::string v = r.text(col);
    for (std::string_view ok : values)
        if (v == ok) return std::nullopt;
    std::string list;
    for (std::string_view ok : values) list += (list.empty() ? "" : ", ") + std::string(ok);
    return broken(table, col, std::string(col) + " must be one of " + list + ", not \"" + v + "\"");
}

// column >= 0 (strict: column > 0), numeric
Result numeric_min(std::string_view table, const RowView &r, std::string_view col, bool strict) {
    if (r.is_null(col)) return std::nullopt;
    int c = r.compare_numeric(col, "");
    if (c > 0 || (c == 0 && !strict)) return std::nullopt;
    return broken(table, col, std::string(col) + (strict ? " must be > 0" : " must be >= 0"));
}

// column BETWEEN lo AND hi, integer
Result integer_between(std::string_view table, const RowView &r, std::string_view col, int64_t lo,
                       int64_t hi) {
    if (r.is_null(col)) return std::nullopt;
    int64_t v = r.integer(col);
    if (v >= lo && v <= hi) return std::nullopt;
    return broken(table, col,
                  std::string(col) + " must be between " + std::to_string(lo) + " and " +
                      std::to_string(hi) + ", not " + std::to_string(v));
}

// column >= 0 (strict: column > 0), integer
Result integer_min(std::string_view table, const RowView &r, std::string_view col, bool strict) {
    if (r.is_null(col)) return std::nullopt;
    int64_t v = r.integer(col);
    if (v > 0 || (v == 0 && !strict)) return std::nullopt;
    return broken(table, col, std::string(col) + (strict ? " must be > 0" : " must be >= 0"));
}

template <typename... Checks>
Result first_of(Checks &&...checks) {
    Result r;
    ((r ? void() : void(r = checks())), ...);
    return r;
}

Result accounts(const RowView &r) {
    constexpr std::string_view t = "accounts";
    return first_of([&] { return chars_between(t, r, "account", 1, 200); },
                    [&] { return chars_between(t, r, "currency", 1, 200); },
                    [&] { return numeric_min(t, r, "credit_limit", false); },
                    [&] { return numeric_min(t, r, "posted", false); },
                    [&] { return numeric_min(t, r, "pending", false); },
                    [&] {
                        return one_of(t, r, "status", {"active", "blocked"});
                    });
}

Result holds(const RowView &r) {
    constexpr std::string_view t = "holds";
    return first_of(
        [&] { return chars_between(t, r, "order_ref", 1, 200); },
        [&] { return numeric_min(t, r, "amount", true); },
        [&]() -> Result {
            // captured >= 0 AND captured <= amount
            if (r.is_null("captured")) return std::nullopt;
            if (r.compare_numeric("captured", "") < 0)
                return broken(t, "captured", "captured must be >= 0");
            if (!r.is_null("amount") && r.compare_numeric("captured", "amount") > 0)
                return broken(t, "captured", "captured must not exceed amount");
            return std::nullopt;
        },
        [&] {
            return one_of(t, r, "status", {"pending", "captured", "voided", "expired", "reversed"});
        });
}

Result payments(const RowView &r) {
    constexpr std::string_view t = "payments";
    return first_of([&] { return chars_between(t, r, "payment_ref", 1, 200); },
                    [&] { return numeric_min(t, r, "amount", true); });
}

Result ledger(const RowView &r) {
    return one_of(
        "ledger", r, "kind",
        {"hold", "capture", "void", "expire", "reverse", "payment", "limit", "block", "unblock"});
}

Result idempotency_keys(const RowView &r) {
    constexpr std::string_view t = "idempotency_keys";
    return first_of([&] { return chars_between(t, r, "key", 1, 200); },
                    [&] { return chars_between(t, r, "fingerprint", 1, 1000); },
                    [&] {
                        return one_of(t, r, "state", {"in_progress", "completed"});
                    },
                    [&] { return integer_between(t, r, "response_code", 100, 599); },
                    [&] { return chars_between(t, r, "recovery_point", 1, 1000); },
                    [&]() -> Result {
                        // (state = 'completed') =
                        //     (response IS NOT NULL AND response_code IS NOT NULL)
                        if (r.is_null("state")) return std::nullopt;
                        bool completed = r.text("state") == "completed";
                        bool answered = !r.is_null("response") && !r.is_null("response_code");
                        if (completed == answered) return std::nullopt;
                        return broken(
                            t, "response",
                            "a completed key has a response and a response_code, and only a "
                            "completed key has both");
                    });
}

Result leases(const RowView &r) {
    constexpr std::string_view t = "leases";
    return first_of([&] { return chars_between(t, r, "key", 1, 200); },
                    [&] { return chars_between(t, r, "owner", 1, 200); },
                    [&] { return integer_min(t, r, "token", true); },
                    [&]() -> Result {
                        // (owner IS NULL) = (expires_at IS NULL)
                        if (r.is_null("owner") == r.is_null("expires_at")) return std::nullopt;
                        return broken(t, "owner",
                                      "a lease has an owner exactly when it has an expiry");
                    });
}

Result processed_events(const RowView &r) {
    constexpr std::string_view t = "processed_events";
    return first_of([&] { return chars_between(t, r, "source", 1, 200); },
                    [&] { return chars_between(t, r, "event_id", 1, 200); });
}

Result orders(const RowView &r) {
    constexpr std::string_view t = "orders";
    return first_of([&] { return chars_between(t, r, "order_ref", 1, 200); },
                    [&] {
                        return one_of(t, r, "status",
                                      {"pending", "paid", "processing", "shipped", "delivered",
                                       "cancelled", "expired"});
                    },
                    [&] { return numeric_min(t, r, "amount", false); });
}

Result items(const RowView &r) {
    constexpr std::string_view t = "items";
    return first_of([&] { return chars_between(t, r, "sku", 1, 200); },
                    [&] { return integer_between(t, r, "buckets", 1, 1024); });
}

Result stock_buckets(const RowView &r) {
    constexpr std::string_view t = "stock_buckets";
    return first_of([&] { return integer_min(t, r, "bucket", false); },
                    [&] { return integer_min(t, r, "on_hand", false); },
                    [&]() -> Result {
                        // reserved >= 0 AND reserved <= on_hand
                        if (r.is_null("reserved")) return std::nullopt;
                        int64_t reserved = r.integer("reserved");
                        if (reserved < 0) return broken(t, "reserved", "reserved must be >= 0");
                        if (!r.is_null("on_hand") && reserved > r.integer("on_hand"))
                            return broken(t, "reserved", "reserved must not exceed on_hand");
                        return std::nullopt;
                    });
}

// A reservation's or claim's parts: both NULL (all units in bucket 0), or
// arrays of the same, non-zero number of elements.
Result parts(std::string_view t, const RowView &r) {
    bool nb = r.is_null("part_buckets"), nq = r.is_null("part_qty");
    if (nb && nq) return std::nullopt;
    if (!nb && !nq && r.cardinality("part_buckets") == r.cardinality("part_qty") &&
        r.cardinality("part_buckets") >= 1)
        return std::nullopt;
    return broken(t, "parts",
                  "part_buckets and part_qty must both be NULL or have the same, non-zero "
                  "number of elements");
}

Result reservations(const RowView &r) {
    constexpr std::string_view t = "reservations";
    return first_of(
        [&] { return chars_between(t, r, "order_ref", 1, 200); },
        [&] { return integer_min(t, r, "quantity", true); },
        [&] {
            return one_of(t, r, "status", {"active", "committed", "released", "expired"});
        },
        [&] { return parts(t, r); });
}

Result reservation_claims(const RowView &r) {
    constexpr std::string_view t = "reservation_claims";
    return first_of([&] { return integer_min(t, r, "quantity", true); },
                    [&] { return parts(t, r); });
}

Result stock_audit(const RowView &r) {
    return one_of("stock_audit", r, "kind", {"set", "adjust", "sale", "restripe"});
}

}  // namespace

namespace {
// Every checked table and its name: the one mapping both directions use.
struct NamedTable {
    CheckedTable table;
    std::string_view name;
};
constexpr NamedTable kTables[] = {
    {CheckedTable::Accounts, "accounts"},
    {CheckedTable::Holds, "holds"},
    {CheckedTable::Payments, "payments"},
    {CheckedTable::Ledger, "ledger"},
    {CheckedTable::IdempotencyKeys, "idempotency_keys"},
    {CheckedTable::Leases, "leases"},
    {CheckedTable::ProcessedEvents, "processed_events"},
    {CheckedTable::Orders, "orders"},
    {CheckedTable::Items, "items"},
    {CheckedTable::StockBuckets, "stock_buckets"},
    {CheckedTable::Reservations, "reservations"},
    {CheckedTable::StockAudit, "stock_audit"},
    {CheckedTable::ReservationClaims, "reservation_claims"},
};
}  // namespace

std::optional<CheckedTable> checked_table(std::string_view name) {
    for (const NamedTable &t : kTables)
        if (t.name == name) return t.table;
    return std::nullopt;
}

std::string_view table_name(CheckedTable table) {
    for (const NamedTable &t : kTables)
        if (t.table == table) return t.name;
    return "?";
}

std::optional<RowViolation> check_row(CheckedTable table, const RowView &row) {
    switch (table) {
        case CheckedTable::Accounts:
            return accounts(row);
        case CheckedTable::Holds:
            return holds(row);
        case CheckedTable::Payments:
            return payments(row);
        case CheckedTable::Ledger:
            return ledger(row);
        case CheckedTable::IdempotencyKeys:
            return idempotency_keys(row);
        case CheckedTable::Leases:
            return leases(row);
        case CheckedTable::ProcessedEvents:
            return processed_events(row);
        case CheckedTable::Orders:
            return orders(row);
        case CheckedTable::Items:
            return items(row);
        case CheckedTable::StockBuckets:
            return stock_buckets(row);
        case CheckedTable::Reservations:
            return reservations(row);
        case CheckedTable::StockAudit:
            return stock_audit(row);
        case CheckedTable::ReservationClaims:
            return reservation_claims(row);
    }
    return std::nullopt;
}

}  // namespace oc::core
