// Unit tests of the error model (codes -> SQLSTATE, names, try_ outcomes)
// and of the contract's key-length rule.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/keys.hpp"
#include "test_util.hpp"

namespace {

using oc::core::Code;
using oc::core::Error;
using oc::test::expect_error;

struct CodeRow {
    Code code;
    const char *sqlstate;
    const char *name;
    bool business;
};

// The contract's table (docs/reference.md, "SQLSTATEs"), written out independently of the
// implementation. Internal is ours: XX000, never a business outcome; so is
// OC012 (too many named locks in one transaction), which try_lock raises too.
const std::vector<CodeRow> kCodes = {
    {Code::InsufficientCredit, "OC001", "insufficient_credit", true},
    {Code::AccountBlocked, "OC002", "account_blocked", true},
    {Code::AccountNotFound, "OC003", "account_not_found", true},
    {Code::InsufficientStock, "OC004", "insufficient_stock", true},
    {Code::ItemNotFound, "OC005", "item_not_found", true},
    {Code::ReferenceNotFound, "OC006", "reference_not_found", true},
    {Code::InvalidState, "OC007", "invalid_state", true},
    {Code::Expired, "OC008", "expired", true},
    {Code::IdempotencyMismatch, "OC009", "idempotency_mismatch", true},
    {Code::InProgress, "OC010", "in_progress", true},
    {Code::StaleFence, "OC011", "stale_fence", true},
    {Code::LockLimit, "OC012", "lock_limit_exceeded", false},
    {Code::LockTimeout, "55P03", "lock_timeout", true},
    {Code::InvalidParameter, "22023", "invalid_parameter_value", false},
    {Code::NullValue, "22004", "null_value_not_allowed", false},
    {Code::Internal, "XX000", "internal_error", false},
};

TEST(ErrorCodes, SqlstateNameAndOutcomeOfEveryCode) {
    for (const auto &row : kCodes) {
        EXPECT_EQ(oc::core::sqlstate(row.code), row.sqlstate) << row.name;
        EXPECT_EQ(oc::core::code_name(row.code), row.name) << row.sqlstate;
        EXPECT_EQ(oc::core::is_business_outcome(row.code), row.business) << row.sqlstate;
    }
}

TEST(ErrorCodes, TableCoversEveryEnumeratorAndIsUnique) {
    // Code is a dense enum from InsufficientCredit to Internal: every value in
    // between must be in the table above, each SQLSTATE and name only once.
    const int first = static_cast<int>(Code::InsufficientCredit);
    const int last = static_cast<int>(Code::Internal);
    EXPECT_EQ(static_cast<size_t>(last - first + 1), kCodes.size());
    std::set<int> seen;
    std::set<std::string> states, names;
    for (const auto &row : kCodes) {
        seen.insert(static_cast<int>(row.code));
        states.insert(row.sqlstate);
        names.insert(row.name);
    }
    EXPECT_EQ(seen.size(), kCodes.size());
    EXPECT_EQ(*seen.begin(), first);
    EXPECT_EQ(*seen.rbegin(), last);
    EXPECT_EQ(states.size(), kCodes.size());
    EXPECT_EQ(names.size(), kCodes.size());
    for (const auto &s : states) EXPECT_EQ(s.size(), 5u) << s;
}

TEST(ErrorCodes, ErrorCarriesItsParts) {
    Error e(Code::InvalidState, "msg", "detail=1", "a hint");
    EXPECT_EQ(e.code(), Code::InvalidState);
    EXPECT_EQ(e.message(), "msg");
    EXPECT_EQ(e.detail(), "detail=1");
    EXPECT_EQ(e.hint(), "a hint");
    EXPECT_STREQ(e.what(), "msg");
    Error bare(Code::Expired, "m");
    EXPECT_TRUE(bare.detail().empty());
    EXPECT_TRUE(bare.hint().empty());
}

TEST(KeyLength, BoundsAreOneTo200) {
    EXPECT_EQ(oc::core::kMaxKeyChars, 200u);
    EXPECT_NO_THROW(oc::core::require_key_length("order_ref", 1));
    EXPECT_NO_THROW(oc::core::require_key_length("order_ref", 200));
}

TEST(KeyLength, EmptyRefused) {
    Error e = expect_error([] { oc::core::require_key_length("order_ref", 0); });
    EXPECT_EQ(e.code(), Code::InvalidParameter);
    EXPECT_EQ(e.message(), "order_ref must not be empty");
    EXPECT_EQ(e.hint(), "order_ref must be 1 to 200 characters long.");
}

TEST(KeyLength, TooLongRefused) {
    Error e = expect_error([] { oc::core::require_key_length("account", 201); });
    EXPECT_EQ(e.code(), Code::InvalidParameter);
    EXPECT_EQ(e.message(), "account is too long");
    EXPECT_EQ(e.detail(), "length=201, maximum=200");
}

TEST(ReasonLength, UpTo1000) {
    EXPECT_NO_THROW(oc::core::require_reason_length("reason", 0));
    EXPECT_NO_THROW(oc::core::require_reason_length("reason", 1000));
    Error e = expect_error([] { oc::core::require_reason_length("reason", 1001); });
    EXPECT_EQ(e.code(), Code::InvalidParameter);
    EXPECT_EQ(e.detail(), "length=1001, maximum=1000");
}

TEST(RequiredReason, NotBlankAndUpTo1000) {
    EXPECT_NO_THROW(oc::core::require_reason("reason", "x", 1));
    EXPECT_NO_THROW(oc::core::require_reason("reason", " stocktake ", 11));
    for (const char *blank : {"", " ", "\t\n", "\r\n  "}) {
        Error e = expect_error([blank] { oc::core::require_reason("reason", blank, 0); });
        EXPECT_EQ(e.code(), Code::InvalidParameter);
        EXPECT_EQ(e.message(), "reason must not be empty");
    }
    Error e = expect_error([] { oc::core::require_reason("reason", "x", 1001); });
    EXPECT_EQ(e.detail(), "length=1001, maximum=1000");
}

}  // namespace
