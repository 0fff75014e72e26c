// Row checks: the integrity rules of the extension's tables (what a column
// CHECK constraint would say), evaluated by ONE function per row instead of
// one CHECK expression per rule.
//
// Why: PostgreSQL 15 re-reads every CHECK constraint of a table from its
// stored node text (stringToNode + expression_planner) in every statement
// that writes the table. For the extension's small, hot statements that was
// measured at 60% of the instructions of an idempotency_begin + complete and
// a third of place_order. A single `CHECK (order_credit._row_valid(t))` per
// table is read once per statement too, but it is a few hundred characters,
// not kilobytes. The rules themselves live here, testable without a
// database.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace oc::core {

// A row as the checks read it: columns by name. The PostgreSQL glue
// implements it over a heap tuple; the unit tests over a map.
class RowView {
  public:
    virtual ~RowView() = default;
    virtual bool is_null(std::string_view column) const = 0;
    // Text columns: the value and its length in characters (as char_length).
    virtual std::string text(std::string_view column) const = 0;
    virtual int64_t chars(std::string_view column) const = 0;
    // Integer columns (int2/int4/int8).
    virtual int64_t integer(std::string_view column) const = 0;
    // Array columns: the number of elements (as cardinality()).
    virtual int64_t cardinality(std::string_view column) const = 0;
    // Numeric columns: <0, 0, >0 as numeric's own ordering compares `column`
    // with `other` (a column name), or with zero when `other` is empty.
    virtual int compare_numeric(std::string_view column, std::string_view other) const = 0;
};

// The tables whose rows are checked here.
enum class CheckedTable {
    Accounts,
    Holds,
    Payments,
    Ledger,
    IdempotencyKeys,
    Leases,
    ProcessedEvents,
    Orders,
    Items,
    StockBuckets,
    Reservations,
    StockAudit,
    ReservationClaims,
};

// The table of that name in the extension's schema, if it is checked here,
// and back: a checked table's name.
std::optional<CheckedTable> checked_table(std::string_view name);
std::string_view table_name(CheckedTable table);

// A broken rule: the constraint-style name of the rule and a message naming
// the column and the value's problem.
struct RowViolation {
    std::string rule;     // e.g. "accounts_credit_limit_check"
    std::string message;  // e.g. "credit_limit must be >= 0"
};

// The first rule of `table` that `row` breaks, if any. NULL columns pass a
// rule, as in a CHECK constraint (NOT NULL is declared on the columns).
std::optional<RowViolation> check_row(CheckedTable table, const RowView &row);

}  // namespace oc::core
