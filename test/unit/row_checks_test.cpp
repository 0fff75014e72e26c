// Row checks (src/core/row_checks.hpp): the rules that used to be column
// CHECK constraints, over a fake row.
#include <map>
#include <string>

#include "core/row_checks.hpp"
#include "test_util.hpp"

namespace {

using oc::core::check_row;
using oc::core::checked_table;
using oc::core::CheckedTable;

// A row of named columns; numerics are plain integers here (the PostgreSQL
// glue compares real numerics with numeric_cmp).
struct FakeRow : oc::core::RowView {
    std::map<std::string, std::string> texts;
    std::map<std::string, long long> numbers;
    std::map<std::string, int> arrays;  // column -> number of elements

    bool is_null(std::string_view c) const override {
        std::string k(c);
        return !texts.count(k) && !numbers.count(k) && !arrays.count(k);
    }
    std::string text(std::string_view c) const override { return texts.at(std::string(c)); }
    int64_t chars(std::string_view c) const override {
        // character count of UTF-8 text: bytes that are not continuation bytes
        int64_t n = 0;
        for (unsigned char ch : texts.at(std::string(c))) n += (ch & 0xC0) != 0x80;
        return n;
    }
    int64_t cardinality(std::string_view c) const override { return arrays.at(std::string(c)); }
    int64_t integer(std::string_view c) const override { return numbers.at(std::string(c)); }
    int compare_numeric(std::string_view c, std::string_view other) const override {
        long long a = numbers.at(std::string(c));
        long long b = other.empty() ? 0 : numbers.at(std::string(other));
        return (a > b) - (a < b);
    }
};

FakeRow account() {
    FakeRow r;
    r.texts = {{"account", "acct-1"}, {"currency", "EUR"}, {"status", "active"}};
    r.numbers = {{"credit_limit", 100}, {"posted", 0}, {"pending", 0}};
    return r;
}

TEST(RowChecks, TablesByName) {
    EXPECT_EQ(checked_table("accounts"), CheckedTable::Accounts);
    EXPECT_EQ(checked_table("processed_events"), CheckedTable::ProcessedEvents);
    EXPECT_EQ(checked_table("reservations"), CheckedTable::Reservations);
    EXPECT_FALSE(checked_table("order_history").has_value());
    EXPECT_FALSE(checked_table("").has_value());
    EXPECT_EQ(oc::core::table_name(CheckedTable::ReservationClaims), "reservation_claims");
    EXPECT_EQ(checked_table(oc::core::table_name(CheckedTable::Ledger)), CheckedTable::Ledger);
}

TEST(RowChecks, ValidAccountPasses) {
    EXPECT_FALSE(check_row(CheckedTable::Accounts, account()));
}

TEST(RowChecks, NullColumnsPassTheirRules) {
    FakeRow r = account();
    r.texts.erase("currency");
    EXPECT_FALSE(check_row(CheckedTable::Accounts, r));
}

TEST(RowChecks, AccountRules) {
    FakeRow r = account();
    r.numbers["credit_limit"] = -1;
    auto v = check_row(CheckedTable::Accounts, r);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->rule, "accounts_credit_limit_check");
    EXPECT_EQ(v->message, "credit_limit must be >= 0");

    r = account();
    r.numbers["pending"] = 0;  // zero is allowed
    EXPECT_FALSE(check_row(CheckedTable::Accounts, r));
    r.texts["status"] = "closed";
    v = check_row(CheckedTable::Accounts, r);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->rule, "accounts_status_check");

    r = account();
    r.texts["account"] = "";
    v = check_row(CheckedTable::Accounts, r);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->rule, "accounts_account_check");
}

TEST(RowChecks, LengthsCountCharactersNotBytes) {
    FakeRow r;
    std::string two_hundred;
    for (int i = 0; i < 200; ++i) two_hundred += "\xc3\xa9";  // é: 2 bytes, 1 character
    r.texts = {{"source", two_hundred}, {"event_id", "e"}};
    EXPECT_FALSE(check_row(CheckedTable::ProcessedEvents, r));
    r.texts["source"] += "x";
    auto v = check_row(CheckedTable::ProcessedEvents, r);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->message, "source must be 1 to 200 characters long, not 201");
}

TEST(RowChecks, HoldCapturedWithinAmount) {
    FakeRow r;
    r.texts = {{"order_ref", "o"}, {"status", "pending"}};
    r.numbers = {{"amount", 10}, {"captured", 10}};
    EXPECT_FALSE(check_row(CheckedTable::Holds, r));
    r.numbers["captured"] = 11;
    auto v = check_row(CheckedTable::Holds, r);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->message, "captured must not exceed amount");
    r.numbers["captured"] = -1;
    EXPECT_EQ(check_row(CheckedTable::Holds, r)->message, "captured must be >= 0");
    r.numbers = {{"amount", 0}, {"captured", 0}};
    EXPECT_EQ(check_row(CheckedTable::Holds, r)->rule, "holds_amount_check");
}

TEST(RowChecks, IdempotencyKeyCompletedExactlyWithResponse) {
    FakeRow r;
    r.texts = {{"key", "k"}, {"fingerprint", "f"}, {"state", "in_progress"}};
    EXPECT_FALSE(check_row(CheckedTable::IdempotencyKeys, r));
    r.texts["state"] = "completed";
    EXPECT_EQ(check_row(CheckedTable::IdempotencyKeys, r)->rule, "idempotency_keys_response_check");
    r.texts["response"] = "{}";
    r.numbers["response_code"] = 200;
    EXPECT_FALSE(check_row(CheckedTable::IdempotencyKeys, r));
    r.numbers["response_code"] = 600;
    EXPECT_EQ(check_row(CheckedTable::IdempotencyKeys, r)->rule,
              "idempotency_keys_response_code_check");
    r.numbers["response_code"] = 100;
    r.texts["state"] = "in_progress";  // a response without completion
    EXPECT_EQ(check_row(CheckedTable::IdempotencyKeys, r)->rule, "idempotency_keys_response_check");
}

TEST(RowChecks, LeaseOwnerExactlyWithExpiry) {
    FakeRow r;
    r.texts = {{"key", "k"}};
    r.numbers = {{"token", 1}};
    EXPECT_FALSE(check_row(CheckedTable::Leases, r));  // released: no owner, no expiry
    r.texts["owner"] = "me";
    EXPECT_EQ(check_row(CheckedTable::Leases, r)->rule, "leases_owner_check");
    r.numbers["expires_at"] = 1;
    EXPECT_FALSE(check_row(CheckedTable::Leases, r));
    r.numbers["token"] = 0;
    EXPECT_EQ(check_row(CheckedTable::Leases, r)->rule, "leases_token_check");
}

TEST(RowChecks, LedgerKindsAndOrderStatuses) {
    FakeRow r;
    for (const char *k :
         {"hold", "capture", "void", "expire", "reverse", "payment", "limit", "block", "unblock"}) {
        r.texts["kind"] = k;
        EXPECT_FALSE(check_row(CheckedTable::Ledger, r)) << k;
    }
    r.texts["kind"] = "refund";
    EXPECT_EQ(check_row(CheckedTable::Ledger, r)->rule, "ledger_kind_check");

    FakeRow o;
    o.texts = {{"order_ref", "o"}, {"status", "shipped"}};
    o.numbers = {{"amount", 0}};
    EXPECT_FALSE(check_row(CheckedTable::Orders, o));
    o.texts["status"] = "lost";
    EXPECT_EQ(check_row(CheckedTable::Orders, o)->rule, "orders_status_check");
}

TEST(RowChecks, StockRules) {
    FakeRow b;
    b.numbers = {{"bucket", 0}, {"on_hand", 5}, {"reserved", 5}};
    EXPECT_FALSE(check_row(CheckedTable::StockBuckets, b));
    b.numbers["reserved"] = 6;
    EXPECT_EQ(check_row(CheckedTable::StockBuckets, b)->message,
              "reserved must not exceed on_hand");
    b.numbers["reserved"] = -1;
    EXPECT_EQ(check_row(CheckedTable::StockBuckets, b)->message, "reserved must be >= 0");
    b.numbers = {{"bucket", -1}, {"on_hand", 0}, {"reserved", 0}};
    EXPECT_EQ(check_row(CheckedTable::StockBuckets, b)->rule, "stock_buckets_bucket_check");

    FakeRow r;
    r.texts = {{"order_ref", "o"}, {"status", "active"}};
    r.numbers = {{"quantity", 1}};
    r.arrays = {{"part_buckets", 2}, {"part_qty", 2}};
    EXPECT_FALSE(check_row(CheckedTable::Reservations, r));
    r.arrays["part_qty"] = 1;
    EXPECT_EQ(check_row(CheckedTable::Reservations, r)->rule, "reservations_parts_check");
    r.arrays = {{"part_buckets", 0}, {"part_qty", 0}};
    EXPECT_EQ(check_row(CheckedTable::Reservations, r)->rule, "reservations_parts_check");
    r.arrays = {};  // both NULL: all units from bucket 0
    EXPECT_FALSE(check_row(CheckedTable::Reservations, r));
    r.arrays = {{"part_qty", 1}};  // one of them NULL
    EXPECT_EQ(check_row(CheckedTable::Reservations, r)->rule, "reservations_parts_check");
    r.arrays = {{"part_buckets", 1}, {"part_qty", 1}};
    r.numbers["quantity"] = 0;
    EXPECT_EQ(check_row(CheckedTable::Reservations, r)->rule, "reservations_quantity_check");

    FakeRow i;
    i.texts = {{"sku", "s"}};
    i.numbers = {{"buckets", 1024}};
    EXPECT_FALSE(check_row(CheckedTable::Items, i));
    i.numbers["buckets"] = 1025;
    EXPECT_EQ(check_row(CheckedTable::Items, i)->rule, "items_buckets_check");

    FakeRow c;
    c.numbers = {{"quantity", 1}};
    EXPECT_FALSE(check_row(CheckedTable::ReservationClaims, c));
    c.numbers["quantity"] = 0;
    EXPECT_EQ(check_row(CheckedTable::ReservationClaims, c)->rule,
              "reservation_claims_quantity_check");
    c.numbers["quantity"] = 3;
    c.arrays = {{"part_buckets", 2}, {"part_qty", 2}};
    EXPECT_FALSE(check_row(CheckedTable::ReservationClaims, c));
    c.arrays = {{"part_buckets", 1}};
    EXPECT_EQ(check_row(CheckedTable::ReservationClaims, c)->rule,
              "reservation_claims_parts_check");
    c.arrays = {{"part_buckets", 1}, {"part_qty", 2}};
    EXPECT_EQ(check_row(CheckedTable::ReservationClaims, c)->rule,
              "reservation_claims_parts_check");

    FakeRow a;
    a.texts = {{"kind", "sale"}};
    EXPECT_FALSE(check_row(CheckedTable::StockAudit, a));
    a.texts["kind"] = "gift";
    EXPECT_EQ(check_row(CheckedTable::StockAudit, a)->rule, "stock_audit_kind_check");
}

TEST(RowChecks, PaymentRules) {
    FakeRow r;
    r.texts = {{"payment_ref", "p"}};
    r.numbers = {{"amount", 1}};
    EXPECT_FALSE(check_row(CheckedTable::Payments, r));
    r.numbers["amount"] = 0;
    EXPECT_EQ(check_row(CheckedTable::Payments, r)->rule, "payments_amount_check");
}

}  // namespace
