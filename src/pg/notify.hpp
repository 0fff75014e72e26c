// Live notifications (docs/monitoring.md, "Notifications"): the one place
// that sends on the channels of core/alerts.hpp, through PostgreSQL's
// Async_Notify, the function behind NOTIFY and pg_notify: queued with the
// (sub)transaction, delivered when it commits, dropped when it aborts.
// Both functions may be called inside or outside pg_call: they raise a
// PostgreSQL error only from within their own pg_call.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "pg/pg.hpp"

namespace oc::pg::notify {

extern bool guc_orders;  // order_credit.notify_orders

// A bucket's available units went from `before` to `after`; its threshold
// (stock_buckets.alert_below) was `threshold_before` and is `threshold_after`
// (the same unless a re-stripe gave it a new share). Notifies
// order_credit_stock when core::crossing says it crossed, and returns whether
// it did. No threshold: returns false at once.
bool stock_change(std::string_view sku, int bucket, int64_t before, int64_t after,
                  std::optional<int64_t> threshold_before, std::optional<int64_t> threshold_after);
inline bool stock_change(std::string_view sku, int bucket, int64_t before, int64_t after,
                         std::optional<int64_t> threshold) {
    return threshold && stock_change(sku, bucket, before, after, threshold, threshold);
}

// A re-stripe removed bucket `bucket`, whose level was `before` against its
// share `threshold`: notifies order_credit_stock with event "removed" when
// core::removal says it was low, and returns whether it did.
bool stock_removed(std::string_view sku, int bucket, int64_t before,
                   std::optional<int64_t> threshold);

// Whether the installed schema has the alert columns (version 1.1): a
// database still on 1.0 runs this library without them, and the stock
// statements and writers then take their 1.0 form. Cached per backend,
// forgotten on any relcache invalidation (ALTER EXTENSION UPDATE adds them).
bool alerts_schema();

// The text of a detoasted text Datum, as a view (no copy).
inline std::string_view text_view(Datum d) {
    text *t = reinterpret_cast<text *>(DatumGetPointer(d));
    return std::string_view(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
}

// An order's status changed (from nullopt: it was placed). Notifies
// order_credit_orders when order_credit.notify_orders is on.
void order_change(std::string_view order_ref, std::optional<std::string_view> from,
                  std::string_view to);

}  // namespace oc::pg::notify
