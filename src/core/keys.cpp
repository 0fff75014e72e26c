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

void require_reason(std::string_view what, std::string_view text, size_t chars) {
    if (text.find_first_not_of(" \t\r\n") == std::string_view::npos)
        throw Error(Code::InvalidParameter, fmt::format("{} must not be empty", what), {},
                    fmt::format("Say why, in at most {} characters.", kMaxReasonChars));
    require_reason_length(what, chars);
}

}  // namespace oc::core
