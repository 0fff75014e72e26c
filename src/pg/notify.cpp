// Sends the notifications of pg/notify.hpp; the SQL statements of the stock
// and orders areas reach the same code through _stock_crossed and the
// orders step's returned list.
#include <algorithm>
#include <cstring>
#include <string>

#include "core/alerts.hpp"
#include "pg/guard.hpp"
#include "pg/notify.hpp"

extern "C" {
#include "catalog/namespace.h"
#include "commands/async.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
}

namespace oc::pg::notify {

bool guc_orders = false;

namespace {

// Numbers the stock notifications of one transaction (the payload's "n"),
// so that PostgreSQL, which delivers equal payloads of one transaction only
// once, delivers every crossing.
LocalTransactionId counted_lxid = InvalidLocalTransactionId;
int64_t counted = 0;

void send(std::string_view channel, const std::string &payload) {
    const char *p = payload.c_str();
    pg_call([channel, p] {
        char name[NAMEDATALEN];
        size_t n = std::min(channel.size(), static_cast<size_t>(NAMEDATALEN - 1));
        memcpy(name, channel.data(), n);
        name[n] = '\0';
        Async_Notify(name, p);
    });
}

// One stock notification, numbered within its transaction.
void send_stock(std::string_view sku, int bucket, core::Crossing c, int64_t available,
                int64_t threshold) {
    if (MyProc->lxid != counted_lxid) {
        counted_lxid = MyProc->lxid;
        counted = 0;
    }
    send(core::kStockChannel, core::stock_payload(sku, bucket, c, available, threshold, ++counted));
}

int alerts_cached = -1;  // -1: not known
bool alerts_callback = false;
void forget_alerts_schema(Datum, Oid) {
    alerts_cached = -1;
}

}  // namespace

bool alerts_schema() {
    if (alerts_cached >= 0) return alerts_cached == 1;
    return pg_call([]() -> bool {
        if (!alerts_callback) {
            CacheRegisterRelcacheCallback(forget_alerts_schema, Datum(0));
            alerts_callback = true;
        }
        Oid ns = get_namespace_oid("order_credit", true);
        Oid rel = OidIsValid(ns) ? get_relname_relid("stock_buckets", ns) : InvalidOid;
        bool has = OidIsValid(rel) && get_attnum(rel, "alert_below") != InvalidAttrNumber;
        alerts_cached = has ? 1 : 0;
        return has;
    });
}

bool stock_change(std::string_view sku, int bucket, int64_t before, int64_t after,
                  std::optional<int64_t> threshold_before, std::optional<int64_t> threshold_after) {
    core::Crossing c = core::crossing(before, threshold_before, after, threshold_after);
    if (c == core::Crossing::None) return false;
    send_stock(sku, bucket, c, after, *threshold_after);
    return true;
}

bool stock_removed(std::string_view sku, int bucket, int64_t before,
                   std::optional<int64_t> threshold) {
    core::Crossing c = core::removal(before, threshold);
    if (c == core::Crossing::None) return false;
    send_stock(sku, bucket, c, 0, 0);
    return true;
}

void order_change(std::string_view order_ref, std::optional<std::string_view> from,
                  std::string_view to) {
    if (!guc_orders) return;
    send(core::kOrdersChannel, core::order_payload(order_ref, from, to));
}

}  // namespace oc::pg::notify

using namespace oc::pg;

// order_credit._stock_crossed(sku, bucket, before, after, threshold): the
// statements' way to the crossing rule (a bucket UPDATE's RETURNING calls it
// for the rows with a threshold). True when the change crossed (and was
// notified); NULL arguments: false.
OC_FUNCTION(oc_stock_crossed) {
    return guard(fcinfo, [](FunctionCallInfo fc) -> Datum {
        if (fc->args[0].isnull || fc->args[1].isnull || fc->args[2].isnull || fc->args[3].isnull ||
            fc->args[4].isnull)
            return BoolGetDatum(false);
        Datum sku = pg_call([fc] {
            return PointerGetDatum(pg_detoast_datum_packed(
                reinterpret_cast<struct varlena *>(DatumGetPointer(fc->args[0].value))));
        });
        int64_t before = DatumGetInt64(fc->args[2].value), after = DatumGetInt64(fc->args[3].value),
                threshold = DatumGetInt64(fc->args[4].value);
        return BoolGetDatum(notify::stock_change(
            notify::text_view(sku), DatumGetInt32(fc->args[1].value), before, after, threshold));
    });
}
