// One field of a jsonb object, read as plain data: what the items readers of
// reserve_stock(jsonb) and place_order hand to the core's validators.
#pragma once

#include "pg/pg.hpp"

namespace oc::pg {

enum JsonFieldKind { kAbsent, kString, kNumber, kBoolean, kNull, kObject, kArray };

struct JsonField {
    int kind;
    const char *str;  // kString: the string (not terminated); kNumber: numeric_out
    int len;
    int chars;  // kString: characters
};

// Reads `key` of the object container `c`. Call only inside pg_call (it can
// ereport); the strings point into the jsonb or are palloc'd.
inline JsonField read_json_field(JsonbContainer *c, const char *key, int key_len) {
    JsonField f{kAbsent, nullptr, 0, 0};
    JsonbValue v;
    if (getKeyJsonValueFromContainer(c, key, key_len, &v) == nullptr) return f;
    switch (v.type) {
        case jbvString:
            f.kind = kString;
            f.str = v.val.string.val;
            f.len = v.val.string.len;
            f.chars = pg_mbstrlen_with_len(f.str, f.len);
            break;
        case jbvNumeric:
            f.kind = kNumber;
            f.str =
                DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v.val.numeric)));
            f.len = static_cast<int>(strlen(f.str));
            break;
        case jbvBool:
            f.kind = kBoolean;
            break;
        case jbvNull:
            f.kind = kNull;
            break;
        default:
            f.kind =
                v.type == jbvBinary && JsonContainerIsObject(v.val.binary.data) ? kObject : kArray;
            break;
    }
    return f;
}

}  // namespace oc::pg
