#include <chrono>
#include <string>

#include "core/error.hpp"
#include "core/money.hpp"
#include "pg/spi.hpp"

extern "C" {
#include "utils/lsyscache.h"
#include "utils/tuplestore.h"
}

namespace oc::pg {

Statement::Statement(const char *sql, std::initializer_list<Oid> types, int flags)
    : sql_(sql), nargs_(static_cast<int>(types.size())), flags_(flags) {
    int i = 0;
    for (Oid t : types) types_[i++] = t;
}

SPIPlanPtr Statement::plan() {
    if (plan_ != nullptr) return plan_;
    const char *sql = sql_;
    int nargs = nargs_;
    Oid *types = types_;
    int options = (flags_ & kGeneric) != 0 ? CURSOR_OPT_GENERIC_PLAN : 0;
    plan_ = pg_call([sql, nargs, types, options]() -> SPIPlanPtr {
        SPIPlanPtr p = SPI_prepare_cursor(sql, nargs, types, options);
        if (p == nullptr)
            elog(ERROR, "order_credit: SPI_prepare failed (%s): %s",
                 SPI_result_code_string(SPI_result), sql);
        if (SPI_keepplan(p) != 0) elog(ERROR, "order_credit: SPI_keepplan failed");
        return p;
    });
    return plan_;
}

Datum int4_array(const std::vector<int> &v) {
    const int *p = v.data();
    int n = static_cast<int>(v.size());
    return pg_call([p, n]() -> Datum {
        Datum *d = static_cast<Datum *>(palloc(sizeof(Datum) * (n > 0 ? n : 1)));
        for (int i = 0; i < n; ++i) d[i] = Int32GetDatum(p[i]);
        return PointerGetDatum(construct_array(d, n, INT4OID, 4, true, TYPALIGN_INT));
    });
}

Datum int8_array(const std::vector<int64_t> &v) {
    const int64_t *p = v.data();
    int n = static_cast<int>(v.size());
    return pg_call([p, n]() -> Datum {
        Datum *d = static_cast<Datum *>(palloc(sizeof(Datum) * (n > 0 ? n : 1)));
        for (int i = 0; i < n; ++i) d[i] = Int64GetDatum(p[i]);
        return PointerGetDatum(construct_array(d, n, INT8OID, 8, true, TYPALIGN_DOUBLE));
    });
}

Rows exec(Statement &st, std::initializer_list<Arg> args, long limit) {
    if (static_cast<int>(args.size()) != st.nargs())
        throw core::Error(core::Code::Internal,
                          "statement called with the wrong number of arguments", st.sql());
    Datum values[Statement::kMaxArgs];
    char nulls[Statement::kMaxArgs];
    int i = 0;
    for (const Arg &a : args) {
        values[i] = a.value;
        nulls[i] = a.null ? 'n' : ' ';
        ++i;
    }
    // Pinned again (a string comparison when nothing changed it): a user
    // trigger fired by an earlier statement may have set search_path.
    pin_search_path();
    SPIPlanPtr plan = st.plan();
    auto start = std::chrono::steady_clock::now();
    // The planner settings stay for the rest of the call (until a statement
    // wants others): changing them back after every statement would cost two
    // GUC changes per statement for nothing.
    plan_statement(st.key_access(), st.by_key());
    int rc = pg_call([&]() -> int {
        before_lock_wait();  // any statement may wait for a row lock
        int r = SPI_execute_plan(plan, values, nulls, false, limit);
        if (r < 0)
            elog(ERROR, "order_credit: SPI_execute_plan failed: %s", SPI_result_code_string(r));
        return r;
    });
    (void)rc;
    if (st.locks()) stats::add_lock_wait_us(static_cast<int64_t>(ms_since(start) * 1000.0));
    return Rows(SPI_tuptable, SPI_processed);
}

bool Rows::is_null(uint64 row, int col) const {
    bool isnull = false;
    SPITupleTable *t = table_;
    pg_call([&] { (void)SPI_getbinval(t->vals[row], t->tupdesc, col, &isnull); });
    return isnull;
}

Datum Rows::datum(uint64 row, int col) const {
    SPITupleTable *t = table_;
    return pg_call([&]() -> Datum {
        bool isnull = false;
        Datum d = SPI_getbinval(t->vals[row], t->tupdesc, col, &isnull);
        return isnull ? Datum(0) : d;
    });
}

std::optional<std::string> Rows::opt_text(uint64 row, int col) const {
    SPITupleTable *t = table_;
    // SPI_getvalue runs the type's output function: text for any column type.
    char *s = pg_call([&]() -> char * { return SPI_getvalue(t->vals[row], t->tupdesc, col); });
    if (s == nullptr) return std::nullopt;
    return std::string(s);
}

std::string Rows::text(uint64 row, int col) const {
    auto s = opt_text(row, col);
    if (!s) throw core::Error(core::Code::Internal, "unexpected NULL in a result column");
    return *s;
}

core::Money Rows::money(uint64 row, int col) const {
    std::string s = text(row, col);
    auto m = core::Money::parse(s);
    if (!m) throw core::Error(core::Code::Internal, "stored amount out of range", s);
    return *m;
}

int64_t Rows::int8(uint64 row, int col) const {
    SPITupleTable *t = table_;
    return pg_call([&]() -> int64_t {
        bool isnull = false;
        Datum d = SPI_getbinval(t->vals[row], t->tupdesc, col, &isnull);
        if (isnull) return 0;
        switch (SPI_gettypeid(t->tupdesc, col)) {
            case INT8OID:
                return DatumGetInt64(d);
            case INT4OID:
                return DatumGetInt32(d);
            case INT2OID:
                return DatumGetInt16(d);
            default:
                elog(ERROR, "order_credit: column %d is not an integer", col);
        }
        return 0;
    });
}

bool Rows::boolean(uint64 row, int col) const {
    SPITupleTable *t = table_;
    return pg_call([&]() -> bool {
        bool isnull = false;
        Datum d = SPI_getbinval(t->vals[row], t->tupdesc, col, &isnull);
        return !isnull && DatumGetBool(d);
    });
}

Datum result_from_values(const Call &call, const Datum *values, const bool *nulls, int natts) {
    FunctionCallInfo fcinfo = call.fcinfo;
    MemoryContext upper = call.upper;
    return pg_call([&]() -> Datum {
        MemoryContext old = MemoryContextSwitchTo(upper);
        TupleDesc desc;
        if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
            elog(ERROR, "order_credit: function must return a composite type");
        if (desc->natts > natts)
            elog(ERROR, "order_credit: result has %d columns, the function's type %d", natts,
                 desc->natts);
        desc = BlessTupleDesc(desc);
        HeapTuple tuple =
            heap_form_tuple(desc, const_cast<Datum *>(values), const_cast<bool *>(nulls));
        Datum d = HeapTupleGetDatum(tuple);
        MemoryContextSwitchTo(old);
        return d;
    });
}

Datum result_from_row(const Call &call, const Rows &rows, uint64 row) {
    SPITupleTable *t = rows.table();
    int natts = t->tupdesc->natts;
    if (natts > 32) throw core::Error(core::Code::Internal, "result row too wide");
    Datum values[32];
    bool nulls[32];
    pg_call([&] { heap_deform_tuple(t->vals[row], t->tupdesc, values, nulls); });
    // Values are copied into the caller's context by heap_form_tuple.
    return result_from_values(call, values, nulls, natts);
}

SrfWriter::SrfWriter(const Call &call) {
    FunctionCallInfo fcinfo = call.fcinfo;
    rsinfo_ = pg_call([fcinfo]() -> ReturnSetInfo * {
        InitMaterializedSRF(fcinfo, 0);
        return reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
    });
}

void SrfWriter::put(const Datum *values, const bool *nulls) {
    ReturnSetInfo *rs = rsinfo_;
    pg_call([&] {
        tuplestore_putvalues(rs->setResult, rs->setDesc, const_cast<Datum *>(values),
                             const_cast<bool *>(nulls));
    });
}

void SrfWriter::put_row(const Rows &rows, uint64 row) {
    SPITupleTable *t = rows.table();
    ReturnSetInfo *rs = rsinfo_;
    if (t->tupdesc->natts > 32 || t->tupdesc->natts < rs->setDesc->natts)
        throw core::Error(core::Code::Internal, "result row does not match the function's type");
    Datum values[32];
    bool nulls[32];
    pg_call([&] { heap_deform_tuple(t->vals[row], t->tupdesc, values, nulls); });
    put(values, nulls);
}

Datum return_one_row(const Call &call, const Datum *values, const bool *nulls, int natts) {
    SrfWriter w(call);
    (void)natts;
    w.put(values, nulls);
    return Datum(0);
}

namespace {
Datum numeric_datum(const std::string &s) {
    const char *cs = s.c_str();
    return pg_call([cs]() -> Datum {
        return DirectFunctionCall3(numeric_in, CStringGetDatum(cs), ObjectIdGetDatum(InvalidOid),
                                   Int32GetDatum(-1));
    });
}
}  // namespace

Datum money_datum(core::Money m) {
    return numeric_datum(m.to_string());
}

Datum balance_datum(core::Money m) {
    return numeric_datum(m.to_numeric_text());
}

Datum datum_array(const std::vector<Datum> &v, Oid type) {
    const Datum *p = v.data();
    int n = static_cast<int>(v.size());
    return pg_call([p, n, type]() -> Datum {
        int16 len;
        bool byval;
        char align;
        get_typlenbyvalalign(type, &len, &byval, &align);
        return PointerGetDatum(construct_array(const_cast<Datum *>(p), n, type, len, byval, align));
    });
}

Datum text_datum(const std::string &s) {
    const char *p = s.data();
    int len = static_cast<int>(s.size());
    return pg_call(
        [p, len]() -> Datum { return PointerGetDatum(cstring_to_text_with_len(p, len)); });
}

}  // namespace oc::pg
