// Unit tests of the coordination rules (src/core/coordination.hpp).
#include <climits>
#include <cstdint>
#include <string>

#include <gtest/gtest.h>

#include "core/coordination.hpp"
#include "core/error.hpp"
#include "test_util.hpp"

using namespace oc::core;

namespace {

template <typename F>
Code code_of(F f) {
    try {
        f();
    } catch (const Error &e) {
        return e.code();
    }
    return Code::Internal;
}

BeginState decide(KeyFacts f, bool locked) {
    return decide_begin(f, locked, "k", "a", "b");
}

}  // namespace

TEST(DecideBegin, NoRowWithLockIsNew) {
    EXPECT_EQ(decide(KeyFacts{}, true), BeginState::New);
}

TEST(DecideBegin, NoVisibleRowWithoutLockIsInProgress) {
    // An uncommitted begin of another transaction: its row is invisible, its lock held.
    EXPECT_EQ(decide(KeyFacts{}, false), BeginState::InProgress);
}

TEST(DecideBegin, CompletedReplaysWithOrWithoutLock) {
    KeyFacts f{true, true, true, false};
    EXPECT_EQ(decide(f, true), BeginState::Replay);
    EXPECT_EQ(decide(f, false), BeginState::Replay);
}

TEST(DecideBegin, LiveLeaseIsInProgress) {
    KeyFacts f{true, false, true, true};
    EXPECT_EQ(decide(f, true), BeginState::InProgress);
    EXPECT_EQ(decide(f, false), BeginState::InProgress);
}

TEST(DecideBegin, LapsedOrNoLeaseResumesOnlyUnderTheLock) {
    KeyFacts f{true, false, true, false};
    EXPECT_EQ(decide(f, true), BeginState::Resume);
    EXPECT_EQ(decide(f, false), BeginState::InProgress);
}

TEST(DecideBegin, FingerprintMismatchIsOC009WhateverTheState) {
    for (bool completed : {false, true})
        for (bool lease : {false, true})
            for (bool locked : {false, true}) {
                KeyFacts f{true, completed, false, lease};
                try {
                    decide_begin(f, locked, "order-7", "fp-old", "fp-new");
                    ADD_FAILURE() << "no error";
                } catch (const Error &e) {
                    EXPECT_EQ(e.code(), Code::IdempotencyMismatch);
                    EXPECT_EQ(sqlstate(e.code()), "OC009");
                    EXPECT_NE(e.detail().find("stored fingerprint=fp-old"), std::string::npos);
                    EXPECT_NE(e.detail().find("requested fingerprint=fp-new"), std::string::npos);
                }
            }
}

TEST(DecideBegin, StateNames) {
    EXPECT_EQ(to_string(BeginState::New), "new");
    EXPECT_EQ(to_string(BeginState::Replay), "replay");
    EXPECT_EQ(to_string(BeginState::InProgress), "in_progress");
    EXPECT_EQ(to_string(BeginState::Resume), "resume");
}

TEST(CompleteReplay, SameResponseAndCodeIsNoOp) {
    EXPECT_NO_THROW(check_complete_replay("k", true, 200, 200));
}

TEST(CompleteReplay, OtherResponseOrCodeIsOC009) {
    EXPECT_EQ(code_of([] { check_complete_replay("k", false, 200, 200); }),
              Code::IdempotencyMismatch);
    EXPECT_EQ(code_of([] { check_complete_replay("k", true, 200, 201); }),
              Code::IdempotencyMismatch);
    try {
        check_complete_replay("k", true, 200, 500);
        ADD_FAILURE() << "no error";
    } catch (const Error &e) {
        EXPECT_NE(e.detail().find("stored response_code=200"), std::string::npos);
        EXPECT_NE(e.detail().find("requested response_code=500"), std::string::npos);
    }
}

TEST(ResponseCode, HttpRange) {
    EXPECT_NO_THROW(require_response_code(100));
    EXPECT_NO_THROW(require_response_code(599));
    EXPECT_EQ(code_of([] { require_response_code(99); }), Code::InvalidParameter);
    EXPECT_EQ(code_of([] { require_response_code(600); }), Code::InvalidParameter);
    EXPECT_EQ(code_of([] { require_response_code(-200); }), Code::InvalidParameter);
}

TEST(CoordinationText, Bounds) {
    EXPECT_NO_THROW(require_coordination_text("fingerprint", 1));
    EXPECT_NO_THROW(require_coordination_text("fingerprint", kMaxCoordinationText));
    EXPECT_EQ(code_of([] { require_coordination_text("fingerprint", 0); }), Code::InvalidParameter);
    EXPECT_EQ(code_of([] { require_coordination_text("fingerprint", kMaxCoordinationText + 1); }),
              Code::InvalidParameter);
}

TEST(Fence, NewestPassesAnythingElseIsOC011) {
    EXPECT_NO_THROW(check_fence("L", 3, 3));
    EXPECT_EQ(code_of([] { check_fence("L", 2, 3); }), Code::StaleFence);
    EXPECT_EQ(code_of([] { check_fence("L", 4, 3); }), Code::StaleFence);
    try {
        check_fence("L", 2, 3);
        ADD_FAILURE() << "no error";
    } catch (const Error &e) {
        EXPECT_EQ(sqlstate(e.code()), "OC011");
        EXPECT_EQ(e.detail(), "key=L, token=2, newest=3");
    }
}

TEST(Fence, TokensArePositive) {
    EXPECT_NO_THROW(require_token("token", 1));
    EXPECT_EQ(code_of([] { require_token("token", 0); }), Code::InvalidParameter);
    EXPECT_EQ(code_of([] { require_token("token", -5); }), Code::InvalidParameter);
}

TEST(LockTimeout, RoundsUpToWholeMilliseconds) {
    EXPECT_EQ(lock_timeout_ms(1, 0, 0), 1);  // 1 microsecond still waits 1 ms, never 0 (= forever)
    EXPECT_EQ(lock_timeout_ms(1000, 0, 0), 1);
    EXPECT_EQ(lock_timeout_ms(1001, 0, 0), 2);
    EXPECT_EQ(lock_timeout_ms(250000, 0, 0), 250);
    EXPECT_EQ(lock_timeout_ms(0, 1, 0), 86400000);
    EXPECT_EQ(lock_timeout_ms(-1000, 1, 0), 86399999);  // '1 day -1 ms'
}

TEST(LockTimeout, ClampsToIntMax) {
    EXPECT_EQ(lock_timeout_ms(0, 0, 1), INT_MAX);  // 30 days > INT_MAX ms
    EXPECT_EQ(lock_timeout_ms(INT64_MAX, INT32_MAX, INT32_MAX), INT_MAX);
}

namespace {

TEST(LeaseLength, UpToTheMaximum) {
    using oc::core::require_lease_length;
    constexpr int64_t kDay = 86400;
    EXPECT_NO_THROW(
        require_lease_length("ttl", kDay * 1000000, 0, 0, kDay, "order_credit.max_lease"));
    EXPECT_NO_THROW(require_lease_length("ttl", 0, 1, 0, kDay, "order_credit.max_lease"));
    EXPECT_EQ(code_of([] { require_lease_length("ttl", 1, 1, 0, kDay, "order_credit.max_lease"); }),
              Code::InvalidParameter);
    // 1,000 years (months of 30 days, as PostgreSQL compares intervals)
    Error e = oc::test::expect_error(
        [] { require_lease_length("ttl", 0, 0, 12000, kDay, "order_credit.max_lease"); });
    EXPECT_EQ(e.message(), "ttl is longer than order_credit.max_lease allows");
    EXPECT_EQ(e.detail(), "ttl_seconds=31104000000, maximum_seconds=86400");
    // the largest interval PostgreSQL can hold does not overflow
    EXPECT_EQ(code_of([] {
                  require_lease_length("lease", INT64_MAX, INT32_MAX, INT32_MAX, kDay,
                                       "order_credit.max_idempotency_lease");
              }),
              Code::InvalidParameter);
}

}  // namespace
