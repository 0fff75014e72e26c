// The purge of finished rows (purge.cpp): order_credit.purge() and the
// step expire_due runs after the coordination purge.
#pragma once

namespace oc::pg {

// While true, the purge's own statement is deleting the history of the
// orders it deletes: oc_append_only lets that DELETE on order_history pass.
bool order_history_delete_allowed();

}  // namespace oc::pg
