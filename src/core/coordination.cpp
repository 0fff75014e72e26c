#include "core/coordination.hpp"

#include <climits>

#include <fmt/format.h>

#include "core/error.hpp"

namespace oc::core {

std::string_view to_string(BeginState s) noexcept {
    switch (s) {
        case BeginState::New:
            return "new";
        case BeginState::Replay:
            return "replay";
        case BeginState::InProgress:
            return "in_progress";
        case BeginState::Resume:
            return "resume";
    }
    return "new";
}

BeginState decide_begin(const KeyFacts &f, bool lock_acquired, std::string_view key,
                        std::string_view stored_fingerprint, std::string_view fingerprint) {
    if (f.exists && !f.fingerprint_match) {
        throw Error(Code::IdempotencyMismatch,
                    fmt::format("idempotency key \"{}\" was used with another request", key),
                    fmt::format("key={}, stored fingerprint={}, requested fingerprint={}", key,
                                stored_fingerprint, fingerprint),
                    "Use a new idempotency key for a different request.");
    }
    if (f.exists && f.completed) return BeginState::Replay;
    if (!lock_acquired) return BeginState::InProgress;
    if (!f.exists) return BeginState::New;
    if (f.lease_live) return BeginState::InProgress;
    return BeginState::Resume;
}

void check_complete_replay(std::string_view key, bool same_response, int stored_code,
                           int requested_code) {
    if (same_response && stored_code == requested_code) return;
    throw Error(
        Code::IdempotencyMismatch,
        fmt::format("idempotency key \"{}\" was already completed with another response", key),
        fmt::format("key={}, stored response_code={}, requested response_code={}, same "
                    "response={}",
                    key, stored_code, requested_code, same_response ? "yes" : "no"),
        "A completed key is final; its stored response is what every retry replays.");
}

void require_response_code(int code) {
    if (code < 100 || code > 599)
        throw Error(Code::InvalidParameter, "response_code must be an HTTP status (100 to 599)",
                    fmt::format("response_code={}", code));
}

void require_coordination_text(std::string_view what, size_t chars) {
    if (chars == 0)
        throw Error(Code::InvalidParameter, fmt::format("{} must not be empty", what), {},
                    fmt::format("{} must be 1 to {} characters long.", what, kMaxCoordinationText));
    if (chars > kMaxCoordinationText)
        throw Error(Code::InvalidParameter, fmt::format("{} is too long", what),
                    fmt::format("length={}, maximum={}", chars, kMaxCoordinationText),
                    what == "fingerprint" ? "Pass a hash of the request (for example its SHA-256 "
                                            "in hex), not the request itself."
                                          : "");
}

void require_token(std::string_view what, int64_t token) {
    if (token <= 0)
        throw Error(Code::InvalidParameter, fmt::format("{} must be positive", what),
                    fmt::format("{}={}", what, token),
                    "Fencing tokens are the positive numbers returned by acquire_lease().");
}

void check_fence(std::string_view key, int64_t token, int64_t newest) {
    if (token == newest) return;
    throw Error(Code::StaleFence,
                fmt::format("fencing token {} of lease \"{}\" is not the newest", token, key),
                fmt::format("key={}, token={}, newest={}", key, token, newest),
                "Another owner acquired the lease since; stop and re-acquire it.");
}

namespace {
constexpr __int128 kUsPerDay = static_cast<__int128>(86400) * 1000000;

__int128 interval_us(int64_t time_us, int32_t days, int32_t months) {
    return static_cast<__int128>(time_us) + static_cast<__int128>(days) * kUsPerDay +
           static_cast<__int128>(months) * 30 * kUsPerDay;
}
}  // namespace

void require_lease_length(std::string_view what, int64_t time_us, int32_t days, int32_t months,
                          int64_t max_seconds, std::string_view setting) {
    __int128 us = interval_us(time_us, days, months);
    if (us <= static_cast<__int128>(max_seconds) * 1000000) return;
    throw Error(Code::InvalidParameter, fmt::format("{} is longer than {} allows", what, setting),
                fmt::format("{}_seconds={}, maximum_seconds={}", what,
                            static_cast<int64_t>((us + 999999) / 1000000), max_seconds),
                fmt::format("Renew a shorter {} as the work goes on; an administrator can raise "
                            "{}.",
                            what, setting));
}

int lock_timeout_ms(int64_t time_us, int32_t days, int32_t months) noexcept {
    __int128 us = interval_us(time_us, days, months);
    if (us <= 0) return 1;
    __int128 ms = (us + 999) / 1000;
    if (ms > INT_MAX) return INT_MAX;
    return static_cast<int>(ms);
}

}  // namespace oc::core
