// Rules for the contract's text keys (account, sku, order_ref, key, ...).
#pragma once

#include <cstddef>
#include <string_view>

namespace oc::core {

constexpr size_t kMaxKeyChars = 200;

// Throws Error(InvalidParameter) unless 1 <= chars <= kMaxKeyChars.
// `chars` is the length in characters (not bytes) as the database counts it.
void require_key_length(std::string_view what, size_t chars);

// Optional free text (reasons): at most kMaxReasonChars characters.
constexpr size_t kMaxReasonChars = 1000;
void require_reason_length(std::string_view what, size_t chars);

// A required reason: not blank (only spaces, tabs or line breaks) and at most
// kMaxReasonChars characters.
void require_reason(std::string_view what, std::string_view text, size_t chars);

}  // namespace oc::core
