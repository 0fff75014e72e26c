// Shared helpers of the core unit tests.
#pragma once

#include <gtest/gtest.h>

#include <ostream>

#include "core/error.hpp"
#include "core/money.hpp"

namespace oc::core {
// Lets GoogleTest print Money in failure messages.
inline void PrintTo(const Money &m, std::ostream *os) {
    *os << m.to_string();
}
inline void PrintTo(Code c, std::ostream *os) {
    *os << sqlstate(c) << " " << code_name(c);
}
}  // namespace oc::core

namespace oc::test {

// Runs f, which must throw core::Error, and returns the error.
template <typename F>
core::Error expect_error(F f) {
    try {
        f();
    } catch (const core::Error &e) {
        return e;
    } catch (...) {
        ADD_FAILURE() << "an exception other than core::Error was thrown";
        return core::Error(core::Code::Internal, "<other exception>");
    }
    ADD_FAILURE() << "no core::Error thrown";
    return core::Error(core::Code::Internal, "<none thrown>");
}

inline core::Money M(const char *text) {
    auto m = core::Money::parse(text);
    EXPECT_TRUE(m.has_value()) << "bad test amount " << text;
    return m.value_or(core::Money());
}

}  // namespace oc::test
