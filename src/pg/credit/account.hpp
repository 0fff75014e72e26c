// A credit account as every credit write path meets it: its row locked
// (FOR NO KEY UPDATE: inserts referencing it proceed), its due holds expired
// first when one may be due, its status row; and the one writer of hold
// expiry, used by a call that meets due holds and by expire_due's sweep.
#pragma once

#include <optional>
#include <string>

#include "core/credit.hpp"
#include "pg/spi.hpp"

namespace oc::pg::credit {

struct LockedAccount {
    core::Balances balances;
    bool blocked;
    bool due;  // a pending hold may have expired
};

[[noreturn]] void account_not_found(const std::string &account);

// Locks the account row; nullopt when there is none.
std::optional<LockedAccount> lock_account(Datum account);

// Locks the account and, when a hold may be due, expires its due holds
// first, so the balances returned are exact (AccountNotFound when there is none).
LockedAccount lock_account_exact(Datum account, const std::string &name, Datum user);

// The account_balances row (credit_status's result; AccountNotFound when none).
Datum status_result(const Call &call, Datum account, const std::string &name);
// The same row as Rows (empty when there is none).
Rows status_rows(Datum account);

// A write statement's `SELECT count(*)` must be 1.
void expect_one(const Rows &r, const char *what);

}  // namespace oc::pg::credit
