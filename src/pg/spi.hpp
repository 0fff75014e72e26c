// SPI with plans prepared once per backend and kept (SPI_prepare +
// SPI_keepplan), typed access to result rows, and the per-call frame that
// connects SPI and builds results in the caller's memory context.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "core/money.hpp"
#include "pg/guard.hpp"

namespace oc::pg {

// One bound parameter.
struct Arg {
    Datum value;
    bool null;
};
inline Arg val(Datum d) {
    return Arg{d, false};
}
inline Arg null_arg() {
    return Arg{0, true};
}

// A SQL statement of the extension. Define each as a static object; the plan
// is prepared on first use and kept for the life of the backend. The plan
// cache re-plans it by itself after DDL (for instance DROP/CREATE EXTENSION).
class Statement {
  public:
    static constexpr int kMaxArgs = 12;
    // Flags. kLocks: the statement takes row locks a caller may wait on; its
    // time counts as lock wait in order_credit.stats. kGeneric: the kept plan
    // is always the generic one (CURSOR_OPT_GENERIC_PLAN); otherwise the plan
    // cache may re-plan with the parameter values on every call when a custom
    // plan looks cheaper, which for a large statement costs more than
    // running it.
    // Planning: every statement is planned for key access (sequential
    // scans, hash and merge joins disabled when it executes, which is where
    // the plan cache plans and re-plans: plan_statement in pg/settings.hpp),
    // because each one touches a few rows by key, whatever the size of the
    // tables when the plan is made. A kept
    // plan is made at the first call of a backend, maybe on an empty table,
    // and only re-made after ANALYZE or DDL: measured, reserve_stock planned
    // on an empty reservations table cost 2.4M instructions per call for the
    // rest of the backend's life, and place_order's generic plan on 1,000
    // SKUs (the SKU array counted as 10 elements) 4.70M instead of 1.76M.
    // kBatch: a statement over many rows (expire_due's batches, purges),
    // planned with the caller's planner settings. kBatchByKey: a batch that
    // reaches another table's rows by key (no sequential scan), but joins
    // its own intermediate results freely (hash joins of CTEs).
    enum Flags { kPlain = 0, kLocks = 1, kGeneric = 2, kBatch = 4, kBatchByKey = 8 };
    Statement(const char *sql, std::initializer_list<Oid> types, int flags = kPlain);
    bool locks() const { return (flags_ & kLocks) != 0; }
    bool key_access() const { return (flags_ & (kBatch | kBatchByKey)) == 0; }
    bool by_key() const { return (flags_ & kBatchByKey) != 0; }
    SPIPlanPtr plan();
    int nargs() const { return nargs_; }
    const char *sql() const { return sql_; }

  private:
    const char *sql_;
    int nargs_;
    Oid types_[kMaxArgs];
    int flags_;
    SPIPlanPtr plan_ = nullptr;
};

// Rows of the last execution; valid until the next exec() or SPI_finish.
class Rows {
  public:
    Rows(SPITupleTable *table, uint64 count) : table_(table), count_(count) {}
    uint64 count() const { return count_; }
    bool empty() const { return count_ == 0; }
    SPITupleTable *table() const { return table_; }

    // Columns are 1-based, as in SPI.
    bool is_null(uint64 row, int col) const;
    Datum datum(uint64 row, int col) const;  // Datum (0) when NULL
    std::string text(uint64 row, int col) const;
    std::optional<std::string> opt_text(uint64 row, int col) const;
    core::Money money(uint64 row, int col) const;
    int64_t int8(uint64 row, int col) const;
    bool boolean(uint64 row, int col) const;  // NULL reads as false

  private:
    SPITupleTable *table_;
    uint64 count_;
};

// Executes a kept plan. `limit` 0 means all rows.
Rows exec(Statement &st, std::initializer_list<Arg> args, long limit = 0);

// Per-call frame: SPI connected, results built in `upper`.
struct Call {
    FunctionCallInfo fcinfo;
    MemoryContext upper;  // the caller's memory context at entry
};

// Builds a composite result of the function's declared type from row `row`
// of `rows`, whose leading columns must match that type in order and type
// (trailing extra columns are ignored).
Datum result_from_row(const Call &call, const Rows &rows, uint64 row);
// Builds a composite result from the first columns of values/nulls (natts given).
Datum result_from_values(const Call &call, const Datum *values, const bool *nulls, int natts);

// Set-returning functions (RETURNS TABLE / SETOF): materialize mode. begin()
// once, then put() each row; the function then returns (Datum) 0.
class SrfWriter {
  public:
    explicit SrfWriter(const Call &call);
    void put(const Datum *values, const bool *nulls);
    // Appends row `row` of `rows` (leading columns matching the result type).
    void put_row(const Rows &rows, uint64 row);

  private:
    ReturnSetInfo *rsinfo_;
};

// Returns a single row from a RETURNS TABLE function.
Datum return_one_row(const Call &call, const Datum *values, const bool *nulls, int natts);

// Runs `body(call)` with SPI connected. Every SPI statement runs under the
// pinned search path (kPinnedSearchPath, pg/settings.hpp: pg_catalog, then
// the temporary schema for relations and types only, nothing of the
// caller's), put in force by exec() before the call's first statement (a
// direct writer, which runs none and resolves nothing by name, leaves the
// caller's in place). It stays in force
// for the rest of the call, which is what makes the C functions immune to
// look-alike functions, operators and tables on the caller's search_path:
// the plan cache prepares each kept plan under it and, since it matches at
// every later execution, never re-plans under the caller's path. It is a
// GUC change like the call's other settings (pg/settings.hpp), so a user
// trigger fired inside the call runs under it and current_setting() shows
// it; the caller gets its own path back when the call returns. On success
// SPI is finished here; on an error the (sub)transaction abort cleans SPI
// up, as it does for PL/pgSQL.
template <typename Body>
Datum with_spi(FunctionCallInfo fcinfo, Body &&body) {
    Call call{fcinfo, CurrentMemoryContext};
    pg_call([] {
        if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "order_credit: SPI_connect failed");
    });
    Datum result = body(call);
    pg_call([] { SPI_finish(); });
    return result;
}

// Conversions between core values and Datums (allocate in the current context).
// money_datum: canonical text (amounts as the writers store them);
// balance_datum: at the value's display scale (balances core computed).
Datum money_datum(core::Money m);
Datum balance_datum(core::Money m);
Datum text_datum(const std::string &s);
Datum int4_array(const std::vector<int> &v);
Datum int8_array(const std::vector<int64_t> &v);
// A one-dimensional array of `type` (text, numeric, ...) from its elements.
Datum datum_array(const std::vector<Datum> &v, Oid type);

}  // namespace oc::pg
