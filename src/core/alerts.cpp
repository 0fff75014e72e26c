#include "core/alerts.hpp"

#include <fmt/format.h>

#include "core/error.hpp"

namespace oc::core {

void require_threshold(int64_t threshold, std::string_view what) {
    if (threshold < 0)
        throw Error(Code::InvalidParameter, fmt::format("{} must not be negative", what),
                    fmt::format("{}={}", what, threshold),
                    "Pass 0 or more units, or NULL to remove the alert.");
}

std::string_view to_string(Crossing c) noexcept {
    switch (c) {
        case Crossing::Fell:
            return "fell";
        case Crossing::Rose:
            return "rose";
        case Crossing::Removed:
            return "removed";
        case Crossing::None:
            break;
    }
    return "none";
}

Crossing crossing(int64_t before, std::optional<int64_t> threshold_before, int64_t after,
                  std::optional<int64_t> threshold_after) noexcept {
    // A threshold that appears or disappears is not a crossing.
    if (!threshold_before || !threshold_after) return Crossing::None;
    bool low_before = before <= *threshold_before;
    bool low_after = after <= *threshold_after;
    if (!low_before && low_after) return Crossing::Fell;
    if (low_before && !low_after) return Crossing::Rose;
    return Crossing::None;
}

Crossing crossing(int64_t before, int64_t after, std::optional<int64_t> threshold) noexcept {
    return crossing(before, threshold, after, threshold);
}

Crossing removal(int64_t before, std::optional<int64_t> threshold) noexcept {
    return threshold && before <= *threshold ? Crossing::Removed : Crossing::None;
}

int64_t bucket_share(int64_t threshold, int buckets, int bucket) noexcept {
    if (buckets <= 1) return threshold;
    return threshold / buckets + (bucket < threshold % buckets ? 1 : 0);
}

std::string json_string(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 2);
    out += '"';
    for (unsigned char ch : s) {
        switch (ch) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (ch < 0x20)
                    out += fmt::format("\\u{:04x}", ch);
                else
                    out += static_cast<char>(ch);
        }
    }
    out += '"';
    return out;
}

std::string stock_payload(std::string_view sku, int bucket, Crossing c, int64_t available,
                          int64_t threshold, int64_t n) {
    return fmt::format(
        "{{\"sku\":{},\"bucket\":{},\"event\":\"{}\",\"available\":{},\"threshold\":{},\"n\":{}}}",
        json_string(sku), bucket, to_string(c), available, threshold, n);
}

std::string order_payload(std::string_view order_ref, std::optional<std::string_view> from,
                          std::string_view to) {
    return fmt::format("{{\"order_ref\":{},\"from\":{},\"to\":{}}}", json_string(order_ref),
                       from ? json_string(*from) : std::string("null"), json_string(to));
}

}  // namespace oc::core
