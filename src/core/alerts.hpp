// Live notifications (docs/monitoring.md, "Notifications"): when a stock
// bucket's available units cross its alert threshold, the share of an
// item's threshold it carries, and the payloads of both channels. Pure
// functions; the writers in src/pg call them with levels read under the
// bucket's row lock and send what they return with NOTIFY semantics.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace oc::core {

// NOTIFY channels (documented names).
constexpr std::string_view kStockChannel = "order_credit_stock";
constexpr std::string_view kOrdersChannel = "order_credit_orders";

// threshold: NULL clears it, otherwise >= 0 (22023).
void require_threshold(int64_t threshold, std::string_view what);

enum class Crossing { None, Fell, Rose, Removed };
std::string_view to_string(Crossing c) noexcept;

// THE threshold-crossing rule. A bucket is low while its available units
// (on_hand - reserved) are at or below its threshold. A change of its
// levels from `before` to `after` fell when it was not low and is now, rose
// when it was low and is not any more; no threshold (nullopt) never
// crosses. The two-threshold form is for a change that also moves the
// threshold (a re-stripe gives buckets new shares): low before is judged
// against the old threshold, low after against the new one.
Crossing crossing(int64_t before, int64_t after, std::optional<int64_t> threshold) noexcept;
Crossing crossing(int64_t before, std::optional<int64_t> threshold_before, int64_t after,
                  std::optional<int64_t> threshold_after) noexcept;

// A re-stripe removes a bucket whose level was `before` against its share
// `threshold`: Removed when the bucket was low (a listener that holds it as
// low must forget it; its units went to the remaining buckets), otherwise
// None. No threshold: None.
Crossing removal(int64_t before, std::optional<int64_t> threshold) noexcept;

// The share of an item's threshold that bucket `bucket` of `buckets` carries
// (stock_buckets.alert_below): threshold / buckets, the first threshold %
// buckets buckets one more, so the shares add up to the threshold. Hence
// the item's available can only be at or below its threshold while at least
// one bucket is at or below its share.
int64_t bucket_share(int64_t threshold, int buckets, int bucket) noexcept;

// Payload of order_credit_stock:
// {"sku":…,"bucket":…,"event":"fell"|"rose"|"removed","available":…,
//  "threshold":…,"n":…}
// available and threshold are the bucket's (the item's for a one-bucket
// item), both 0 for a removed bucket; n numbers the stock notifications of
// one transaction from 1, so no two of its payloads are equal (PostgreSQL
// delivers equal payloads of one transaction once).
std::string stock_payload(std::string_view sku, int bucket, Crossing c, int64_t available,
                          int64_t threshold, int64_t n);

// Payload of order_credit_orders: {"order_ref":…,"from":…|null,"to":…}.
std::string order_payload(std::string_view order_ref, std::optional<std::string_view> from,
                          std::string_view to);

// A JSON string literal (quotes, backslashes and control characters escaped).
std::string json_string(std::string_view s);

}  // namespace oc::core
