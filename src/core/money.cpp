#include "core/money.hpp"

#include <fmt/format.h>

#include "core/error.hpp"

namespace oc::core {

std::optional<Money> Money::parse(std::string_view s) noexcept {
    if (s.empty()) return std::nullopt;
    bool negative = false;
    size_t i = 0;
    if (s[0] == '-' || s[0] == '+') {
        negative = s[0] == '-';
        ++i;
    }
    __int128 ticks = 0;
    int int_digits = 0, frac_digits = 0;
    bool seen_digit = false;
    // Integer part, skipping leading zeros for the digit count.
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
        seen_digit = true;
        if (int_digits > 0 || s[i] != '0') ++int_digits;
        if (int_digits > kMaxIntegerDigits) return std::nullopt;
        ticks = ticks * 10 + (s[i] - '0');
    }
    ticks *= kUnit;
    if (i < s.size() && s[i] == '.') {
        ++i;
        __int128 place = kUnit / 10;
        for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
            seen_digit = true;
            ++frac_digits;
            int digit = s[i] - '0';
            if (place == 0) {
                if (digit != 0) return std::nullopt;  // a fifth significant decimal
                continue;
            }
            ticks += digit * place;
            place /= 10;
        }
    }
    if (!seen_digit || i != s.size()) return std::nullopt;  // NaN, Infinity, junk
    return Money(negative ? -ticks : ticks, frac_digits);
}

Money Money::canonical() const {
    int digits = 0;
    for (__int128 t = ticks_ % kUnit; t != 0; t = (t * 10) % kUnit) ++digits;
    return Money(ticks_, digits);
}

std::string Money::to_numeric_text() const {
    int scale = canonical().dscale_ > dscale_ ? canonical().dscale_ : dscale_;
    unsigned __int128 mag = ticks_ < 0 ? -static_cast<unsigned __int128>(ticks_) : ticks_;
    std::string out = Money(static_cast<__int128>(mag / kUnit) * kUnit, 0).to_string();
    if (ticks_ < 0) out = "-" + out;
    if (scale > 0) {
        std::string f = fmt::format("{:04d}", static_cast<unsigned>(mag % kUnit));
        f.resize(static_cast<size_t>(scale), '0');  // at most 4 significant digits
        out += "." + f;
    }
    return out;
}

std::string Money::to_string() const {
    unsigned __int128 mag = ticks_ < 0 ? -static_cast<unsigned __int128>(ticks_) : ticks_;
    unsigned __int128 whole = mag / kUnit;
    unsigned frac = static_cast<unsigned>(mag % kUnit);
    std::string digits;
    do {
        digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(whole % 10)));
        whole /= 10;
    } while (whole != 0);
    std::string out = ticks_ < 0 ? "-" + digits : digits;
    if (frac != 0) {
        std::string f = fmt::format("{:04d}", frac);
        while (!f.empty() && f.back() == '0') f.pop_back();
        out += "." + f;
    }
    return out;
}

namespace {
Money parse_or_throw(std::string_view text, std::string_view what) {
    auto m = Money::parse(text);
    if (!m) {
        throw Error(Code::InvalidParameter, fmt::format("invalid {}: {}", what, text),
                    fmt::format("{} must be a finite number with at most {} decimal places and "
                                "at most {} integer digits.",
                                what, Money::kScale, Money::kMaxIntegerDigits));
    }
    return *m;
}
}  // namespace

Money require_amount(std::string_view text, std::string_view what) {
    Money m = parse_or_throw(text, what).canonical();
    if (!m.is_positive()) {
        throw Error(Code::InvalidParameter, fmt::format("{} must be greater than zero", what),
                    fmt::format("{}={}", what, text));
    }
    return m;
}

Money require_non_negative(std::string_view text, std::string_view what) {
    Money m = parse_or_throw(text, what).canonical();
    if (m.is_negative()) {
        throw Error(Code::InvalidParameter, fmt::format("{} must not be negative", what),
                    fmt::format("{}={}", what, text));
    }
    return m;
}

}  // namespace oc::core
