// src/core must build without PostgreSQL: this translation unit includes
// every core header and fails to compile if the PostgreSQL server headers
// are on the include path or were included by a core header.
// (CMakeLists.txt also compiles each header on its own, and a ctest checks
// that error.hpp refuses to be included after a PostgreSQL header.)
#include "core/credit.hpp"
#include "core/error.hpp"
#include "core/keys.hpp"
#include "core/money.hpp"

#include <gtest/gtest.h>

#if __has_include(<postgres.h>) || __has_include("postgres.h")
#error "the core unit tests must build without a PostgreSQL include path"
#endif
#ifdef PG_VERSION_NUM
#error "a src/core header pulled in a PostgreSQL header"
#endif
#if defined(POSTGRES_H) || defined(FMGR_H) || defined(C_H)
#error "a src/core header pulled in a PostgreSQL header"
#endif

static_assert(oc::core::Money::kScale == 4, "the contract allows 4 decimal places");
static_assert(oc::core::Money::kUnit == 10000, "one unit is 10^kScale ticks");
static_assert(oc::core::kMaxKeyChars == 200, "keys are 1..200 characters");

TEST(CoreHeaders, CompileWithoutPostgres) {
    SUCCEED();
}
