# order_credit: build of record (PGXS).
#
#   make                 build the shared library and the install script
#   make install         install into the server found by pg_config
#   make installcheck    pg_regress + isolation specs against a running server
#
# Everything else (unit tests, pgTAP, stress, crash check) is driven by
# test/run_all.sh, which is what the README's test command runs.

# order_credit_proxy (proxy/, pure SQL on PL/Proxy) puts the same contract on
# a proxy database in front of shards running order_credit; see
# docs/scaling-out.md.
EXTENSION  = order_credit order_credit_proxy
MODULE_big = order_credit

# The install script of the current version (default_version in the control
# file) is concatenated from src/sql/NN_*.sql in file-name order, so that each
# area (credit, stock, ...) owns its own file. Released versions are frozen
# in sql/: their install scripts (order_credit--A.sql, as shipped) and one
# upgrade script per step (order_credit--A--B.sql). docs/DEVELOPING.md,
# "Releases", says how a version is cut.
EXTVERSION = $(shell sed -n "s/^default_version = '\\(.*\\)'/\\1/p" order_credit.control)
SQL_PARTS  = $(sort $(wildcard src/sql/[0-9]*.sql))
DATA_built = order_credit--$(EXTVERSION).sql
DATA       = $(wildcard sql/order_credit--*.sql) $(wildcard proxy/order_credit_proxy--*.sql)

CORE_SRCS  = $(sort $(wildcard src/core/*.cpp))
PG_SRCS    = $(sort $(wildcard src/pg/*.cpp src/pg/*/*.cpp))
OBJS       = $(CORE_SRCS:.cpp=.o) $(PG_SRCS:.cpp=.o)

# pg_regress: every sql/*.sql except the extension scripts; isolation specs
# from test/isolation/specs.
REGRESS      = $(patsubst sql/%.sql,%,$(sort $(filter-out sql/order_credit--%,$(wildcard sql/*.sql))))
REGRESS_OPTS = --inputdir=. --load-extension=order_credit
ISOLATION    = $(patsubst test/isolation/specs/%.spec,%,$(sort $(wildcard test/isolation/specs/*.spec)))
ISOLATION_OPTS = --inputdir=test/isolation --outputdir=output_iso --load-extension=order_credit

PG_CONFIG ?= pg_config

# C++17, warnings are errors when WERROR=1 (CI sets it).
PG_CXXFLAGS += -std=c++17 -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -Wno-register -fno-omit-frame-pointer -Isrc
ifeq ($(WERROR),1)
PG_CXXFLAGS += -Werror
endif
ifeq ($(ASSERTS),1)
PG_CXXFLAGS += -DUSE_ASSERT_CHECKING
endif
SHLIB_LINK += -lstdc++ -lfmt

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# The LLVM bitcode rule does not see PG_CXXFLAGS; without this, C++17 fails there.
COMPILE.cxx.bc += $(PG_CXXFLAGS)

$(DATA_built): $(SQL_PARTS) order_credit.control
	cat $(SQL_PARTS) > $@

# Rebuild when a header changes (the core is header-heavy), and when the
# compiler flags change (e.g. switching ASSERTS=1 on or off).
FLAGS_STAMP = .build-flags
$(FLAGS_STAMP): FORCE
	@echo '$(PG_CXXFLAGS)' | cmp -s - $@ || echo '$(PG_CXXFLAGS)' > $@
.PHONY: FORCE
$(OBJS) $(OBJS:.o=.bc): $(wildcard src/core/*.hpp) $(wildcard src/pg/*.hpp) $(wildcard src/pg/*/*.hpp) $(FLAGS_STAMP)

EXTRA_CLEAN = output_iso build $(FLAGS_STAMP)
