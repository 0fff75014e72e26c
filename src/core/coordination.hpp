// Coordination rules (docs/reference.md, idempotency keys and leases): the idempotency-key state
// decision, lease and fencing checks, and argument rules, as pure functions.
// The database reads the facts (under the key's handle lock, with the
// database clock) and passes them in; nothing here reads a clock.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace oc::core {

// What idempotency_begin answers (its `state` column).
enum class BeginState { New, Replay, InProgress, Resume };
std::string_view to_string(BeginState s) noexcept;

// What the caller knows about a key when it decides.
struct KeyFacts {
    bool exists = false;             // a row for the key is visible
    bool completed = false;          // state = 'completed'
    bool fingerprint_match = false;  // stored fingerprint = the caller's
    bool lease_live = false;         // lease_expires_at > database now
};

// The decision of idempotency_begin.
//  * a visible row with another fingerprint: OC009 (whatever the lock says);
//  * completed: Replay (completed rows never change, so no lock is needed);
//  * the key's handle lock is held by another transaction: InProgress;
//  * (lock held by us) no row: New;
//  * in progress with a live lease: InProgress;
//  * in progress with a lapsed lease, or committed without a lease and
//    without completing: Resume.
// `key`, `stored_fingerprint` and `fingerprint` only feed the OC009 message.
BeginState decide_begin(const KeyFacts &f, bool lock_acquired, std::string_view key,
                        std::string_view stored_fingerprint, std::string_view fingerprint);

// idempotency_complete on a key already completed: the same response and
// code is a no-op (a retried complete); anything else raises OC009.
void check_complete_replay(std::string_view key, bool same_response, int stored_code,
                           int requested_code);

// response_code of idempotency_complete: an HTTP status, 100..599 (22023).
void require_response_code(int code);

// Fingerprints and recovery points: non-empty text of at most
// kMaxCoordinationText characters (22023).
constexpr size_t kMaxCoordinationText = 1000;
void require_coordination_text(std::string_view what, size_t chars);

// Fencing tokens are positive (22023).
void require_token(std::string_view what, int64_t token);

// check_fence: OC011 unless `token` is the newest token issued for the key.
void check_fence(std::string_view key, int64_t token, int64_t newest);

// A lock wait given as an interval (microseconds + days + months, months of
// 30 days as PostgreSQL counts them) as a lock_timeout in milliseconds:
// rounded up to whole milliseconds, at least 1 (0 would mean "wait forever"),
// at most INT32_MAX. The interval must be positive (checked by the caller).
int lock_timeout_ms(int64_t time_us, int32_t days, int32_t months) noexcept;

// A lease (acquire_lease / renew_lease ttl, idempotency_begin lease) may be
// granted for at most `max_seconds` (the GUC named `setting`): 22023 beyond
// it, so no key can be held for ever. Same interval arithmetic as above.
void require_lease_length(std::string_view what, int64_t time_us, int32_t days, int32_t months,
                          int64_t max_seconds, std::string_view setting);

}  // namespace oc::core
