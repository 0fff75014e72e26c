// Argument checks shared by the coordination functions (idempotency keys,
// named locks, leases): the rules are core's (core/coordination.hpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "pg/common.hpp"

namespace oc::pg::coordination {

// A required, non-empty text of at most 1000 characters.
std::string text_arg(const Args &args, int i, const char *what);

// A lease length: a strictly positive interval that can be added to now, of
// at most `max_s` seconds (the GUC `setting`); nullopt when NULL and
// `optional`.
std::optional<Datum> lease_length(const Args &args, int i, const char *what, bool optional,
                                  int max_s, const char *setting);

// A fencing token: a required, valid token (core::require_token).
int64_t token_arg(const Args &args, int i);

}  // namespace oc::pg::coordination
