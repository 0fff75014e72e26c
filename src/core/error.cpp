#include "core/error.hpp"

namespace oc::core {

std::string_view sqlstate(Code code) noexcept {
    switch (code) {
        case Code::InsufficientCredit:
            return "OC001";
        case Code::AccountBlocked:
            return "OC002";
        case Code::AccountNotFound:
            return "OC003";
        case Code::InsufficientStock:
            return "OC004";
        case Code::ItemNotFound:
            return "OC005";
        case Code::ReferenceNotFound:
            return "OC006";
        case Code::InvalidState:
            return "OC007";
        case Code::Expired:
            return "OC008";
        case Code::IdempotencyMismatch:
            return "OC009";
        case Code::InProgress:
            return "OC010";
        case Code::StaleFence:
            return "OC011";
        case Code::LockLimit:
            return "OC012";
        case Code::LockTimeout:
            return "55P03";
        case Code::InvalidParameter:
            return "22023";
        case Code::NullValue:
            return "22004";
        case Code::Internal:
            return "XX000";
    }
    return "XX000";
}

std::string_view code_name(Code code) noexcept {
    switch (code) {
        case Code::InsufficientCredit:
            return "insufficient_credit";
        case Code::AccountBlocked:
            return "account_blocked";
        case Code::AccountNotFound:
            return "account_not_found";
        case Code::InsufficientStock:
            return "insufficient_stock";
        case Code::ItemNotFound:
            return "item_not_found";
        case Code::ReferenceNotFound:
            return "reference_not_found";
        case Code::InvalidState:
            return "invalid_state";
        case Code::Expired:
            return "expired";
        case Code::IdempotencyMismatch:
            return "idempotency_mismatch";
        case Code::InProgress:
            return "in_progress";
        case Code::StaleFence:
            return "stale_fence";
        case Code::LockLimit:
            return "lock_limit_exceeded";
        case Code::LockTimeout:
            return "lock_timeout";
        case Code::InvalidParameter:
            return "invalid_parameter_value";
        case Code::NullValue:
            return "null_value_not_allowed";
        case Code::Internal:
            return "internal_error";
    }
    return "internal_error";
}

bool is_business_outcome(Code code) noexcept {
    switch (code) {
        case Code::InvalidParameter:
        case Code::NullValue:
        case Code::LockLimit:
        case Code::Internal:
            return false;
        default:
            return true;
    }
}

}  // namespace oc::core
