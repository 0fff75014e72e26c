// Lifecycle of finished rows: which rows of the order_ref tables (orders
// with their history, credit holds, stock reservations) are finished, and
// how long they are kept before order_credit.purge() (and the sweep) may
// delete them. The purge statements (src/pg/expiry/purge.cpp) are written
// from these lists, so the SQL and the tested rules cannot drift apart.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace oc::core {

// Order statuses no call moves further: delivered, cancelled, expired.
// shipped is not finished (set_order_status may still mark it delivered),
// nor are paid and processing (cancel_order still reverses their credit).
bool order_finished(std::string_view status);

// Hold statuses past which only a reversal can follow: captured (a later
// release_credit would reverse it), voided, expired, reversed. A pending
// hold is never finished, even past its expiry (expire_due marks it first).
bool hold_finished(std::string_view status);

// A reservation is finished when committed, released or expired, or when
// it is active but past its expiry and its claim is gone (expire_due
// deletes the claim and leaves the stored status 'active').
bool reservation_finished(std::string_view status, bool past_expiry, bool has_claim);

// How long finished rows are kept (seconds), 0: never purged. A finished
// row is the record that answers a replayed call with the same order_ref,
// so it is never purged before an idempotency key of the same request
// would be: the retention is at least order_credit.idempotency_ttl.
int64_t finished_retention_s(int64_t finished_retention_s, int64_t idempotency_ttl_s);

// Whether a finished row that finished `age_s` seconds ago may go.
bool purgeable(bool finished, int64_t age_s, int64_t retention_s);

// The statuses of a list, as SQL literals for an IN (...) list:
// "'delivered', 'cancelled', 'expired'".
std::string finished_order_statuses_sql();
std::string finished_hold_statuses_sql();
std::string finished_reservation_statuses_sql();

}  // namespace oc::core
