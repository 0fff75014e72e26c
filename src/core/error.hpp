// Error model of the pure core. No PostgreSQL header may be included here:
// the PostgreSQL glue (src/pg) maps these codes to SQLSTATEs.
#pragma once

#include <exception>
#include <string>
#include <string_view>

#ifdef PG_VERSION_NUM
#error "src/core must not include PostgreSQL headers"
#endif

namespace oc::core {

// Result codes of the contract (docs/reference.md, "SQLSTATEs").
enum class Code {
    InsufficientCredit,   // OC001
    AccountBlocked,       // OC002
    AccountNotFound,      // OC003
    InsufficientStock,    // OC004
    ItemNotFound,         // OC005
    ReferenceNotFound,    // OC006
    InvalidState,         // OC007
    Expired,              // OC008
    IdempotencyMismatch,  // OC009
    InProgress,           // OC010
    StaleFence,           // OC011
    LockLimit,            // OC012
    LockTimeout,          // 55P03
    InvalidParameter,     // 22023
    NullValue,            // 22004
    Internal,             // XX000
};

// Five-character SQLSTATE of a code.
std::string_view sqlstate(Code code) noexcept;
// The contract's name of a code ("insufficient_credit", ...).
std::string_view code_name(Code code) noexcept;
// True for OC001..OC011 and lock timeouts: the outcomes that try_ functions
// report as ok = false instead of raising.
bool is_business_outcome(Code code) noexcept;

// An error raised by domain logic. Carries everything PostgreSQL's ereport
// needs; src/pg turns it into an ERROR outside any catch block.
class Error : public std::exception {
  public:
    Error(Code code, std::string message, std::string detail = {}, std::string hint = {})
        : code_(code),
          message_(std::move(message)),
          detail_(std::move(detail)),
          hint_(std::move(hint)) {}

    Code code() const noexcept { return code_; }
    const std::string &message() const noexcept { return message_; }
    const std::string &detail() const noexcept { return detail_; }
    const std::string &hint() const noexcept { return hint_; }
    const char *what() const noexcept override { return message_.c_str(); }

  private:
    Code code_;
    std::string message_;
    std::string detail_;
    std::string hint_;
};

}  // namespace oc::core
