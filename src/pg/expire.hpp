// expire_due(): each area contributes one step that expires (or purges) at
// most `budget` due rows without ever waiting for a row lock (SKIP LOCKED)
// and returns how many it did. expire.cpp runs the steps in order with the
// remaining budget; to add an area, declare its step here and append it to
// kSteps in expire.cpp.
#pragma once

#include <cstdint>

#include "pg/spi.hpp"

namespace oc::pg {

// Credit holds past expires_at -> expired, pending given back, ledger kind expire.
int64_t expire_credit_step(int64_t budget, Datum user);
// Claims of stock reservations past expires_at deleted, units back to their
// buckets (the reservation rows are not updated: past expiry they read expired).
int64_t expire_stock_step(int64_t budget, Datum user);
// Pending orders past expires_at -> expired, with a history entry.
int64_t expire_orders_step(int64_t budget, Datum user);
// Idempotency keys past order_credit.idempotency_ttl and processed events
// past order_credit.event_retention are deleted.
int64_t purge_coordination_step(int64_t budget, Datum user);

}  // namespace oc::pg
