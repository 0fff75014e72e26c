// The row checks (src/pg/row_checks.cpp) for code that writes rows without
// the executor (src/pg/stock/reserve_direct.cpp): the same rules and the same 23514 error as
// the table's `CHECK (order_credit._row_valid(t))`.
#pragma once

#include "core/row_checks.hpp"
#include "pg/pg.hpp"

namespace oc::pg {

// Raises 23514 like the table's row check when the row (columns of `desc`)
// breaks one of the table's rules.
void check_row_values(core::CheckedTable table, TupleDesc desc, const Datum *values,
                      const bool *nulls);

}  // namespace oc::pg
