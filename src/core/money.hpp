// Fixed-point amounts: the contract allows at most 4 decimal places, so an
// amount is an exact integer number of 1/10000 units held in 128 bits.
// Each value also carries the display scale PostgreSQL's numeric would
// give it (the digits after the point in the text it was parsed from; a sum
// or difference takes the larger of its operands', as numeric's does), so
// a balance core computes is stored exactly as the same SQL arithmetic
// would store it. Comparisons ignore the display scale.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace oc::core {

class Money {
  public:
    static constexpr int kScale = 4;
    static constexpr int64_t kUnit = 10000;
    // Largest magnitude accepted from input: 10^24 units (28 digits of
    // ticks), far inside int128 so sums of many amounts cannot overflow.
    static constexpr int kMaxIntegerDigits = 24;

    constexpr Money() = default;
    static Money from_ticks(__int128 ticks) { return Money(ticks, 0).canonical(); }
    static Money from_units(int64_t units) {
        return Money(static_cast<__int128>(units) * kUnit, 0);
    }

    // Parses PostgreSQL numeric text output ("-12.3400", "NaN", "Infinity").
    // Returns nullopt for anything that is not a finite number with at most
    // 4 significant decimal places (trailing zeros are fine) and at most
    // kMaxIntegerDigits integer digits. Never throws.
    static std::optional<Money> parse(std::string_view text) noexcept;

    __int128 ticks() const { return ticks_; }
    bool is_zero() const { return ticks_ == 0; }
    bool is_negative() const { return ticks_ < 0; }
    bool is_positive() const { return ticks_ > 0; }

    // Canonical text: no trailing zeros, no trailing point ("12.34", "-5", "0").
    std::string to_string() const;
    // The text numeric shows at the display scale ("700.0", "0.00").
    std::string to_numeric_text() const;
    int dscale() const { return dscale_; }
    // The same value at the smallest display scale (what to_string shows).
    Money canonical() const;

    friend Money operator+(Money a, Money b) {
        return Money(a.ticks_ + b.ticks_, a.dscale_ > b.dscale_ ? a.dscale_ : b.dscale_);
    }
    friend Money operator-(Money a, Money b) {
        return Money(a.ticks_ - b.ticks_, a.dscale_ > b.dscale_ ? a.dscale_ : b.dscale_);
    }
    friend Money operator*(Money a, int64_t n) { return Money(a.ticks_ * n, a.dscale_); }
    friend bool operator==(Money a, Money b) { return a.ticks_ == b.ticks_; }
    friend bool operator!=(Money a, Money b) { return a.ticks_ != b.ticks_; }
    friend bool operator<(Money a, Money b) { return a.ticks_ < b.ticks_; }
    friend bool operator<=(Money a, Money b) { return a.ticks_ <= b.ticks_; }
    friend bool operator>(Money a, Money b) { return a.ticks_ > b.ticks_; }
    friend bool operator>=(Money a, Money b) { return a.ticks_ >= b.ticks_; }

  private:
    constexpr Money(__int128 ticks, int dscale) : ticks_(ticks), dscale_(dscale) {}
    __int128 ticks_ = 0;
    int dscale_ = 0;
};

// Validates an amount argument of the contract: finite, strictly positive,
// at most 4 decimal places. Throws Error(InvalidParameter) naming `what`.
// The result is canonical (the writers store arguments that way).
Money require_amount(std::string_view numeric_text, std::string_view what);
// Same rules but zero is allowed (credit limits).
Money require_non_negative(std::string_view numeric_text, std::string_view what);

}  // namespace oc::core
