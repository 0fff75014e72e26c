// Unit tests of core::Money: parsing PostgreSQL numeric text, canonical
// output, arithmetic, and the amount validators of the contract (section 0).
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "core/error.hpp"
#include "core/money.hpp"
#include "test_util.hpp"

namespace {

using oc::core::Code;
using oc::core::Error;
using oc::core::Money;
using oc::test::expect_error;

// Ticks of a successful parse; the test fails if the text is refused.
__int128 ticks_of(const char *text) {
    auto m = Money::parse(text);
    EXPECT_TRUE(m.has_value()) << "refused: \"" << text << "\"";
    return m ? m->ticks() : -1;
}

bool refused(const char *text) {
    return !Money::parse(text).has_value();
}

TEST(MoneyParse, Integers) {
    EXPECT_TRUE(ticks_of("0") == 0);
    EXPECT_TRUE(ticks_of("1") == 10000);
    EXPECT_TRUE(ticks_of("100000") == static_cast<__int128>(100000) * 10000);
    EXPECT_TRUE(ticks_of("-42") == -420000);
    EXPECT_TRUE(ticks_of("007") == 70000);  // leading zeros are fine
}

TEST(MoneyParse, Decimals) {
    EXPECT_TRUE(ticks_of("12.34") == 123400);
    EXPECT_TRUE(ticks_of("0.0001") == 1);
    EXPECT_TRUE(ticks_of("-0.0001") == -1);
    EXPECT_TRUE(ticks_of("1.2345") == 12345);
    EXPECT_TRUE(ticks_of(".5") == 5000);
    EXPECT_TRUE(ticks_of("5.") == 50000);
    EXPECT_TRUE(ticks_of("-12.3400") == -123400);
}

TEST(MoneyParse, TrailingZerosBeyondFourDecimalsAreFine) {
    EXPECT_TRUE(ticks_of("1.00000") == 10000);
    EXPECT_TRUE(ticks_of("1.23450000000000000000") == 12345);
    EXPECT_TRUE(ticks_of("0.000000") == 0);
}

TEST(MoneyParse, FifthSignificantDecimalRefused) {
    EXPECT_TRUE(refused("1.00001"));
    EXPECT_TRUE(refused("0.12345"));
    EXPECT_TRUE(refused("-0.00005"));
    EXPECT_TRUE(refused("1.0000000001"));
}

TEST(MoneyParse, NonFiniteAndGarbageRefused) {
    for (const char *s : {"NaN", "nan", "Infinity", "-Infinity", "inf",  "",      "-",   "+",
                          ".",   "-.",  "abc",      "1a",        "a1",   "1.2.3", "1,5", " 1",
                          "1 ",  "1e5", "--1",      "+-1",       "0x10", "1..0"}) {
        EXPECT_TRUE(refused(s)) << "accepted: \"" << s << "\"";
    }
}

TEST(MoneyParse, LeadingPlusIsAccepted) {
    // PostgreSQL's numeric input accepts a leading '+', and so does parse.
    EXPECT_TRUE(ticks_of("+5") == 50000);
    EXPECT_TRUE(ticks_of("+0.5") == 5000);
}

TEST(MoneyParse, IntegerDigitLimit) {
    const std::string d24(24, '9');
    const std::string d25(25, '9');
    auto m = Money::parse(d24);
    ASSERT_TRUE(m.has_value());
    EXPECT_EQ(m->to_string(), d24);
    EXPECT_FALSE(Money::parse(d25).has_value());
    EXPECT_FALSE(Money::parse("-" + d25).has_value());
    EXPECT_TRUE(Money::parse("-" + d24 + ".9999").has_value());
    // 10^24 has 25 digits: one over.
    EXPECT_FALSE(Money::parse("1" + std::string(24, '0')).has_value());
    // Leading zeros do not count as integer digits.
    EXPECT_TRUE(Money::parse(std::string(30, '0') + "1").has_value());
}

TEST(MoneyParse, NegativeZeroIsZero) {
    for (const char *s : {"-0", "-0.0000", "-0.", "+0"}) {
        auto m = Money::parse(s);
        ASSERT_TRUE(m.has_value()) << s;
        EXPECT_TRUE(m->is_zero()) << s;
        EXPECT_FALSE(m->is_negative()) << s;
        EXPECT_EQ(m->to_string(), "0") << s;
    }
}

TEST(MoneyToString, Canonical) {
    EXPECT_EQ(Money().to_string(), "0");
    EXPECT_EQ(Money::from_ticks(1).to_string(), "0.0001");
    EXPECT_EQ(Money::from_ticks(-1).to_string(), "-0.0001");
    EXPECT_EQ(Money::from_ticks(123400).to_string(), "12.34");
    EXPECT_EQ(Money::from_ticks(-123400).to_string(), "-12.34");
    EXPECT_EQ(Money::from_ticks(50000).to_string(), "5");
    EXPECT_EQ(Money::from_ticks(1005000).to_string(), "100.5");
    EXPECT_EQ(Money::from_ticks(10010).to_string(), "1.001");
    EXPECT_EQ(Money::from_units(100000).to_string(), "100000");
    EXPECT_EQ(Money::from_units(-7).to_string(), "-7");
}

TEST(MoneyToString, RoundTrips) {
    for (const char *s :
         {"0", "1", "-1", "0.0001", "-0.0001", "12.34", "-12.34", "100000",
          "999999999999999999999999.9999", "-999999999999999999999999.9999", "1.001", "10.5"}) {
        auto m = Money::parse(s);
        ASSERT_TRUE(m.has_value()) << s;
        EXPECT_EQ(m->to_string(), s);
        auto again = Money::parse(m->to_string());
        ASSERT_TRUE(again.has_value()) << s;
        EXPECT_EQ(*again, *m) << s;
    }
    // Non-canonical input comes back canonical.
    EXPECT_EQ(Money::parse("012.3400")->to_string(), "12.34");
    EXPECT_EQ(Money::parse("+5.0")->to_string(), "5");
}

TEST(MoneyArithmetic, AddSubtractMultiply) {
    Money a = *Money::parse("10.5"), b = *Money::parse("0.0001");
    EXPECT_EQ((a + b).to_string(), "10.5001");
    EXPECT_EQ((a - b).to_string(), "10.4999");
    EXPECT_EQ((b - a).to_string(), "-10.4999");
    EXPECT_EQ((a * 3).to_string(), "31.5");
    EXPECT_EQ((a * -2).to_string(), "-21");
    EXPECT_TRUE((a - a).is_zero());
    // Sums well beyond the input limit do not overflow (128-bit ticks).
    Money big = *Money::parse(std::string(24, '9'));
    Money sum;
    for (int i = 0; i < 1000; ++i) sum = sum + big;
    EXPECT_EQ(sum, big * 1000);
    EXPECT_EQ((sum - big * 999), big);
}

TEST(MoneyArithmetic, Compare) {
    Money one = Money::from_units(1), tick = Money::from_ticks(1);
    Money almost = one - tick;
    EXPECT_TRUE(almost < one);
    EXPECT_TRUE(almost <= one);
    EXPECT_TRUE(one > almost);
    EXPECT_TRUE(one >= almost);
    EXPECT_TRUE(one >= one);
    EXPECT_TRUE(one <= one);
    EXPECT_FALSE(one < one);
    EXPECT_FALSE(one > one);
    EXPECT_TRUE(one == *Money::parse("1.0000"));
    EXPECT_TRUE(one != almost);
    EXPECT_TRUE(Money::from_units(-1) < Money());
    EXPECT_TRUE(Money::from_units(-1).is_negative());
    EXPECT_TRUE(tick.is_positive());
    EXPECT_FALSE(Money().is_positive());
    EXPECT_FALSE(Money().is_negative());
}

TEST(RequireAmount, AcceptsPositiveFinite) {
    EXPECT_TRUE(oc::core::require_amount("0.0001", "amount").ticks() == 1);
    EXPECT_EQ(oc::core::require_amount("10000", "amount").to_string(), "10000");
    EXPECT_EQ(oc::core::require_amount("1.50000", "amount").to_string(), "1.5");
}

TEST(RequireAmount, RefusesZeroAndNegative) {
    for (const char *s : {"0", "-0", "0.0000", "-1", "-0.0001"}) {
        Error e = expect_error([&] { oc::core::require_amount(s, "amount"); });
        EXPECT_EQ(e.code(), Code::InvalidParameter) << s;
        EXPECT_EQ(e.message(), "amount must be greater than zero") << s;
        EXPECT_EQ(e.detail(), std::string("amount=") + s) << s;
    }
}

TEST(RequireAmount, RefusesUnparsable) {
    for (const char *s : {"NaN", "Infinity", "-Infinity", "1.00001", "", "x"}) {
        Error e = expect_error([&] { oc::core::require_amount(s, "amount"); });
        EXPECT_EQ(e.code(), Code::InvalidParameter) << s;
        EXPECT_EQ(e.message(), std::string("invalid amount: ") + s) << s;
        EXPECT_EQ(e.detail(),
                  "amount must be a finite number with at most 4 decimal places and at most 24 "
                  "integer digits.")
            << s;
    }
    Error e = expect_error([] { oc::core::require_amount(std::string(25, '1'), "amount"); });
    EXPECT_EQ(e.code(), Code::InvalidParameter);
}

TEST(RequireNonNegative, ZeroAllowedNegativeRefused) {
    EXPECT_TRUE(oc::core::require_non_negative("0", "credit_limit").is_zero());
    EXPECT_TRUE(oc::core::require_non_negative("-0", "credit_limit").is_zero());
    EXPECT_EQ(oc::core::require_non_negative("100000", "credit_limit").to_string(), "100000");
    Error e = expect_error([] { oc::core::require_non_negative("-0.0001", "credit_limit"); });
    EXPECT_EQ(e.code(), Code::InvalidParameter);
    EXPECT_EQ(e.message(), "credit_limit must not be negative");
    EXPECT_EQ(e.detail(), "credit_limit=-0.0001");
    Error n = expect_error([] { oc::core::require_non_negative("NaN", "credit_limit"); });
    EXPECT_EQ(n.code(), Code::InvalidParameter);
    EXPECT_EQ(n.message(), "invalid credit_limit: NaN");
}

}  // namespace

namespace {

using oc::core::Money;

Money P(const char *s) {
    return *Money::parse(s);
}

// The display scale follows numeric's: the text's digits after the point,
// and the larger of the operands' for a sum or difference.
TEST(MoneyDisplayScale, FollowsNumericArithmetic) {
    EXPECT_EQ(P("700.0").to_numeric_text(), "700.0");
    EXPECT_EQ(P("700.0").to_string(), "700");
    EXPECT_EQ((P("99.9999") + P("0.0001")).to_numeric_text(), "100.0000");
    EXPECT_EQ((P("1000") - P("300.0")).to_numeric_text(), "700.0");
    EXPECT_EQ((P("0.5") - P("0.50")).to_numeric_text(), "0.00");
    EXPECT_EQ((P("-2") - P("0.25")).to_numeric_text(), "-2.25");
    EXPECT_EQ(P("1.000000").to_numeric_text(), "1.000000");
    EXPECT_EQ(P("7.50").canonical().to_numeric_text(), "7.5");
    EXPECT_EQ(Money::from_units(3).to_numeric_text(), "3");
    // Comparisons ignore it.
    EXPECT_EQ(P("7.50"), P("7.5"));
    // Amount arguments come back canonical.
    EXPECT_EQ(oc::core::require_amount("7.50", "amount").to_numeric_text(), "7.5");
}

}  // namespace
