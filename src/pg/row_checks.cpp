// order_credit._row_valid(<table>): the one CHECK constraint of each checked
// table (src/sql/45_row_checks.sql), over the whole row. The rules are in
// src/core/row_checks.cpp; this file reads the row for them and raises
// 23514 (check_violation) when one is broken.
#include <cstring>
#include <string>
#include <string_view>

#include "core/row_checks.hpp"
#include "pg/guard.hpp"
#include "pg/row_checks.hpp"

extern "C" {
#include "utils/array.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"
}

namespace oc::pg {
namespace {

constexpr int kMaxColumns = 32;

// The deformed row: values, nulls and the name and type of each column
// (dropped columns have an empty name).
struct Row {
    int natts = 0;
    Datum values[kMaxColumns];
    bool nulls[kMaxColumns];
    Oid types[kMaxColumns];
    NameData names[kMaxColumns];
};

// Outside the class: its member text() would hide PostgreSQL's type text.
const char *text_cstring(Datum d) {
    return pg_call([d]() -> const char * { return TextDatumGetCString(d); });
}

int64_t text_chars(Datum d) {
    return pg_call([d]() -> int64_t {
        text *t = DatumGetTextPP(d);
        return pg_mbstrlen_with_len(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
    });
}

int64_t array_cardinality(Datum d) {
    return pg_call([d]() -> int64_t {
        ArrayType *a = DatumGetArrayTypeP(d);
        return ArrayGetNItems(ARR_NDIM(a), ARR_DIMS(a));
    });
}

class PgRowView final : public core::RowView {
  public:
    explicit PgRowView(const Row &row) : row_(row) {}

    bool is_null(std::string_view column) const override { return row_.nulls[index(column)]; }

    std::string text(std::string_view column) const override {
        return std::string(text_cstring(row_.values[index(column)]));
    }

    int64_t chars(std::string_view column) const override {
        return text_chars(row_.values[index(column)]);
    }

    int64_t integer(std::string_view column) const override {
        int i = index(column);
        Datum d = row_.values[i];
        switch (row_.types[i]) {
            case INT2OID:
                return DatumGetInt16(d);
            case INT4OID:
                return DatumGetInt32(d);
            case INT8OID:
                return DatumGetInt64(d);
            default:
                throw_type(column, "an integer");
        }
    }

    int64_t cardinality(std::string_view column) const override {
        return array_cardinality(row_.values[index(column)]);
    }

    int compare_numeric(std::string_view column, std::string_view other) const override {
        int i = index(column);
        if (row_.types[i] != NUMERICOID) throw_type(column, "numeric");
        Datum a = row_.values[i];
        Datum b;
        if (other.empty()) {
            b = zero();
        } else {
            int j = index(other);
            if (row_.types[j] != NUMERICOID) throw_type(other, "numeric");
            b = row_.values[j];
        }
        return pg_call(
            [a, b]() -> int { return DatumGetInt32(DirectFunctionCall2(numeric_cmp, a, b)); });
    }

  private:
    // Column index by name; a checked table without the column is a bug of
    // the extension (the rules and the table definition disagree).
    int index(std::string_view column) const {
        for (int i = 0; i < row_.natts; ++i) {
            const char *n = NameStr(row_.names[i]);
            if (column.size() == strlen(n) && column.compare(n) == 0) return i;
        }
        throw core::Error(core::Code::Internal,
                          "order_credit row check: no column \"" + std::string(column) + "\"");
    }

    [[noreturn]] static void throw_type(std::string_view column, const char *what) {
        throw core::Error(core::Code::Internal, "order_credit row check: column \"" +
                                                    std::string(column) + "\" is not " + what);
    }

    static Datum zero() {
        static Datum z = 0;
        if (z == 0) {
            z = pg_call([]() -> Datum {
                MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
                Datum d = NumericGetDatum(int64_to_numeric(0));
                MemoryContextSwitchTo(old);
                return d;
            });
        }
        return z;
    }

    const Row &row_;
};

// Row type OID -> checked table, resolved once per backend from the catalog
// (the type of a table in schema order_credit).
struct CacheEntry {
    Oid type;
    core::CheckedTable table;
};
CacheEntry cache[16];
int cached = 0;

core::CheckedTable table_of(Oid type) {
    for (int i = 0; i < cached; ++i)
        if (cache[i].type == type) return cache[i].table;
    const char *name = pg_call([type]() -> const char * {
        Oid rel = get_typ_typrelid(type);
        if (!OidIsValid(rel)) return nullptr;
        char *nsp = get_namespace_name(get_rel_namespace(rel));
        if (nsp == nullptr || strcmp(nsp, "order_credit") != 0) return nullptr;
        return get_rel_name(rel);
    });
    std::optional<core::CheckedTable> t;
    if (name != nullptr) t = core::checked_table(name);
    if (!t)
        throw core::Error(
            core::Code::InvalidParameter,
            "order_credit._row_valid() checks rows of the extension's own tables only");
    if (cached < static_cast<int>(sizeof cache / sizeof cache[0])) cache[cached++] = {type, *t};
    return *t;
}

// Fills `r` with the names and types of `desc` and the given values. Call
// inside pg_call.
void fill_row(Row *r, TupleDesc desc, const Datum *values, const bool *nulls) {
    if (desc->natts > kMaxColumns)
        elog(ERROR, "order_credit row check: more than %d columns", kMaxColumns);
    r->natts = desc->natts;
    for (int i = 0; i < desc->natts; ++i) {
        Form_pg_attribute a = TupleDescAttr(desc, i);
        r->types[i] = a->atttypid;
        r->values[i] = values[i];
        r->nulls[i] = nulls[i];
        if (a->attisdropped)
            NameStr(r->names[i])[0] = '\0';
        else
            namestrcpy(&r->names[i], NameStr(a->attname));
    }
}

// Raises 23514 naming the table's row check when `row` breaks a rule.
void check_or_raise(core::CheckedTable table, const Row &row) {
    std::optional<core::RowViolation> v = core::check_row(table, PgRowView(row));
    if (!v) return;
    std::string relation(core::table_name(table));
    std::string constraint = relation + "_row_check";
    std::string detail = v->message + " (rule " + v->rule + ").";
    const char *rel = relation.c_str(), *c = constraint.c_str(), *d = detail.c_str();
    pg_call([rel, c, d] {
        ereport(ERROR,
                (errcode(ERRCODE_CHECK_VIOLATION),
                 errmsg("new row for relation \"%s\" violates check constraint \"%s\"", rel, c),
                 errdetail_internal("%s", d)));
    });
}

Datum row_valid(FunctionCallInfo fcinfo) {
    Row row;
    Row *r = &row;
    Oid type = pg_call([fcinfo, r]() -> Oid {
        HeapTupleHeader th = PG_GETARG_HEAPTUPLEHEADER(0);
        Oid typid = HeapTupleHeaderGetTypeId(th);
        TupleDesc desc = lookup_rowtype_tupdesc(typid, HeapTupleHeaderGetTypMod(th));
        if (desc->natts > kMaxColumns) {
            ReleaseTupleDesc(desc);
            elog(ERROR, "order_credit row check: more than %d columns", kMaxColumns);
        }
        HeapTupleData tuple;
        tuple.t_len = HeapTupleHeaderGetDatumLength(th);
        ItemPointerSetInvalid(&tuple.t_self);
        tuple.t_tableOid = InvalidOid;
        tuple.t_data = th;
        Datum values[kMaxColumns];
        bool nulls[kMaxColumns];
        heap_deform_tuple(&tuple, desc, values, nulls);
        fill_row(r, desc, values, nulls);
        ReleaseTupleDesc(desc);
        return typid;
    });
    check_or_raise(table_of(type), row);
    return BoolGetDatum(true);
}

}  // namespace

void check_row_values(core::CheckedTable table, TupleDesc desc, const Datum *values,
                      const bool *nulls) {
    Row row;
    Row *r = &row;
    pg_call([r, desc, values, nulls] { fill_row(r, desc, values, nulls); });
    check_or_raise(table, row);
}

}  // namespace oc::pg

using namespace oc::pg;

OC_FUNCTION(oc_row_valid) {
    return guard(fcinfo, row_valid);
}
