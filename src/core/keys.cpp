#include "core/keys.hpp"

#include <fmt/format.h>

#include "core/error.hpp"

namespace oc::core {

void require_key_length(std::string_view what, size_t chars) {
    if (chars == 0) {
        throw Error(Code::InvalidParameter, fmt::format("{} must not be empty", what), {},
                    fmt::format("{} must be 1 to {} characters long.", what, kMaxKeyChars));
    }
    if (chars > kMaxKeyChars) {
        throw Error(Code::InvalidParameter, fmt::format("{} is too long", what),
                    fmt::format("length={}, maximum={}", chars, kMaxKeyChars));
    }
}

void require_reason_length(std::string_view what, size_t chars) {
    if (chars > kMaxReasonChars) {
        throw Error(Code::InvalidParameter, fmt::format("{} is too long", what),
                    fmt::format("length={}, maximum={}", chars, kMaxReasonChars));
    }
}

}  // namespace oc::core
