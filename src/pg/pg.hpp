// The one place PostgreSQL headers enter C++. Include it LAST in every .cpp
// file: port.h redefines snprintf and friends as macros, which would break
// standard-library and fmt headers included after it.
#pragma once

extern "C" {
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/elog.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"
#include "common/hashfn.h"
}

// PGDLLEXPORT is empty on PostgreSQL 15 for ELF; keep entry points visible
// even if someone builds with -fvisibility=hidden.
#define OC_EXPORT extern "C" __attribute__((visibility("default")))

// Declares a V1 SQL-callable function with C linkage.
#define OC_FUNCTION(name)                                             \
    extern "C" {                                                      \
    __attribute__((visibility("default"))) PG_FUNCTION_INFO_V1(name); \
    }                                                                 \
    OC_EXPORT Datum name(PG_FUNCTION_ARGS)
