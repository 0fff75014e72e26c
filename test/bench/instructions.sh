#!/usr/bin/env bash
# Instructions per call (callgrind), the deterministic counterpart of the tps
# benchmarks: a private copy of the server with this build installed, a
# single-user backend, prepared statements, one transaction per call, N and
# 6N calls: (I(6N) - I(N)) / 5N. Needs valgrind (apt-get install valgrind).
#
#   bash test/bench/instructions.sh            # reserve_stock, place_order, reserve_credit: ext vs plain
#   OC_DIRECT=off bash test/bench/instructions.sh   # the extension with direct_access off
#   OC_MEASURES="events" bash test/bench/instructions.sh  # a subset of: stock orders credit events
#   OC_PRELOAD=1 bash test/bench/instructions.sh    # library preloaded: the calls are counted in
#                                                   # order_credit.stats (shared memory) too
#
# Prints one line per measure. Takes a few minutes (valgrind is ~50x slower).
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v valgrind >/dev/null || { echo "valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }
W=$(mktemp -d /tmp/oc_instr.XXXXXX)
chmod 1777 "$W"   # the postgres user writes callgrind output here
trap 'rm -rf "$W"' EXIT
PGLIB=$(pg_config --pkglibdir | sed 's#/lib$##')   # /usr/lib/postgresql/15
PGSHARE=$(pg_config --sharedir)                      # /usr/share/postgresql/15
mkdir -p "$W/inst$(dirname "$PGLIB")" "$W/inst$(dirname "$PGSHARE")"
cp -a "$PGLIB" "$W/inst$(dirname "$PGLIB")/"
cp -a "$PGSHARE" "$W/inst$(dirname "$PGSHARE")/"
make -s >/dev/null && make -s install DESTDIR="$W/inst" >/dev/null
BIN=$W/inst$PGLIB/bin
DIRECT=${OC_DIRECT:-on}
MEASURES=" ${OC_MEASURES:-stock orders credit events} "
want() { [[ $MEASURES == *" $1 "* ]]; }

# run NAME SETUP_SQL PREPARE_SQL ROW_TEMPLATE_FN N -> total instructions
cluster() { # DIR SETUP_FILE
    mkdir -p "$1"; chown postgres: "$1"
    runuser -u postgres -- "$BIN/initdb" -D "$1/data" -U postgres --auth=trust --no-sync -E UTF8 \
        --locale=C.UTF-8 >/dev/null
    # fsync off; locks for set_stock of 10,000 SKUs in one transaction
    printf 'fsync = off\nmax_locks_per_transaction = 1024\n' >>"$1/data/postgresql.conf"
    [ "${OC_PRELOAD:-0}" = 1 ] && echo "shared_preload_libraries = 'order_credit'" >>"$1/data/postgresql.conf"
    runuser -u postgres -- "$BIN/postgres" --single -D "$1/data" postgres <"$2" >"$1/setup.log" 2>&1
    ! grep -qi error "$1/setup.log" || { cat "$1/setup.log" >&2; exit 1; }
}
measure() { # DIR FILE -> Ir
    runuser -u postgres -- valgrind --tool=callgrind --callgrind-out-file="$2.out" \
        "$BIN/postgres" --single -D "$1/data" postgres <"$2" >"$2.log" 2>&1
    ! grep -qE "(^| )ERROR: " "$2.log" || { grep -E "(^| )ERROR: " "$2.log" >&2; exit 1; }
    grep -E '^(summary|totals)' "$2.out" | awk '{print $2}' | head -1
}
per_call() { # DIR NAME PREPARE ROWFN
    local a b f
    for n in 100 600; do
        f=$W/$2_$n.sql
        { echo "SET order_credit.direct_access = $DIRECT;"; echo "$3"; for ((i = 0; i < n; i++)); do $4 "$2-$n-$i"; done; } >"$f"
        chmod 644 "$f"
        if [ $n = 100 ]; then a=$(measure "$1" "$f"); else b=$(measure "$1" "$f"); fi
    done
    [[ $a =~ ^[0-9]+$ && $b =~ ^[0-9]+$ ]] || { echo "measurement of $2 failed" >&2; exit 1; }
    echo $(((b - a) / 500))
}

# reserve_stock on 10,000 one-bucket SKUs (test/bench/stock/setup.sql) vs its plain statement
# (one statement per line for the single-user backend; the plpgsql
# procedures of the sweep scenario are left out: their bodies hold semicolons)
if want stock; then
awk '/^CREATE PROCEDURE/ { skip = 1 } !skip && !/^--/ { print } skip && /^END \$\$;/ { skip = 0 }' \
    test/bench/stock/setup.sql | tr '\n' ' ' | sed 's/;/;\n/g' >"$W/stock_setup.sql"
chmod 644 "$W/stock_setup.sql"
cluster "$W/stock" "$W/stock_setup.sql"
stock_row() { echo "EXECUTE p('s$((RANDOM % 10000 + 1))', '$1');"; }
ext=$(per_call "$W/stock" rs_ext "PREPARE p(text, text) AS SELECT reservation_id FROM order_credit.reserve_stock(\$1, 1, \$2);" stock_row)
plain=$(per_call "$W/stock" rs_plain "PREPARE p(text, text) AS WITH u AS (UPDATE plain_stock SET reserved = reserved + 1 WHERE sku = \$1 AND on_hand - reserved >= 1 RETURNING sku) INSERT INTO plain_res (order_ref, sku, quantity, expires_at) SELECT \$2, sku, 1, statement_timestamp() + interval '15 minutes' FROM u;" stock_row)
echo "reserve_stock (direct_access=$DIRECT): $ext instructions per call; plain SQL: $plain"
fi

if want orders || want credit; then
# place_order, 3 of 1,000 SKUs + credit (test/bench/orders) vs the plain statement of plain_place.sql
cat >"$W/orders_setup.sql" <<'S'
CREATE EXTENSION order_credit;
SELECT count(order_credit.set_stock('sku-' || i, 1000000000000)) FROM generate_series(1000, 1999) i;
SELECT count(*) FROM generate_series(1, 1000) i, LATERAL order_credit.create_account('acct-' || i, 1000000000000000, 'EUR');
VACUUM ANALYZE;
S
chmod 644 "$W/orders_setup.sql"
cluster "$W/orders" "$W/orders_setup.sql"
ITEMS="jsonb_build_array(jsonb_build_object('sku', \$2, 'quantity', 1, 'unit_price', 10.50), jsonb_build_object('sku', \$3, 'quantity', 2, 'unit_price', 4.25), jsonb_build_object('sku', \$4, 'quantity', 1, 'unit_price', 99.99))"
order_row() { echo "EXECUTE p('$1', 'sku-$((1000 + RANDOM % 330))', 'sku-$((1333 + RANDOM % 330))', 'sku-$((1666 + RANDOM % 330))', 'acct-$((RANDOM % 1000 + 1))');"; }
fi
if want orders; then
ext=$(per_call "$W/orders" po_ext "PREPARE p(text, text, text, text, text) AS SELECT status FROM order_credit.place_order(\$1, $ITEMS, \$5);" order_row)
# plain_place.sql's statement with the pgbench variables as parameters (SKUs already in order)
PLAIN=$(sed -n '/^WITH v(ref/,$p' test/bench/orders/plain_place.sql | sed 's/ *--.*$//' | tr '\n' ' ' |
    sed -e "s/:run || '-' || :client_id || '-' || :r/\$1/" \
        -e "s/'sku-' || :x/\$2/g; s/'sku-' || :y/\$3/g; s/'sku-' || :z/\$4/g" \
        -e "s/'sku-' || :lo/\$2/; s/'sku-' || :mid/\$3/; s/'sku-' || :hi/\$4/" \
        -e "s/:qlo::bigint/1::bigint/; s/:qmid::bigint/2::bigint/; s/:qhi::bigint/1::bigint/" \
        -e "s/'acct-' || :acct/\$5/")
plain=$(per_call "$W/orders" po_plain "PREPARE p(text, text, text, text, text) AS $PLAIN" order_row)
echo "place_order (direct_access=$DIRECT): $ext instructions per order; plain SQL: $plain"
fi

if want credit; then
# reserve_credit on 1,000 accounts (same cluster) vs the plain statement of
# test/bench/credit/c_plain_a.sql (amount 7.50, TTL 15 minutes)
credit_row() { echo "EXECUTE p('$1', 'acct-$((RANDOM % 1000 + 1))');"; }
ext=$(per_call "$W/orders" rc_ext "PREPARE p(text, text) AS SELECT hold_id FROM order_credit.reserve_credit(\$2, 7.50, \$1, interval '15 minutes');" credit_row)
PLAIN=$(sed -n '/^WITH a AS/,$p' test/bench/credit/c_plain_a.sql | sed 's/ *--.*$//' | tr '\n' ' ' |
    sed -e "s/:run || '-' || :client_id || '-' || :r/\$1/g" -e "s/'acct-' || :acct/\$2/" \
        -e "s/:amt::numeric/7.50::numeric/g")
plain=$(per_call "$W/orders" rc_plain "PREPARE p(text, text) AS $PLAIN" credit_row)
echo "reserve_credit (direct_access=$DIRECT): $ext instructions per call; plain SQL: $plain"
fi

if want events; then
# process_once on fresh ids vs plain_events' INSERT ... ON CONFLICT DO NOTHING
# (the table of test/bench/coordination_bench.sh)
cat >"$W/coord_setup.sql" <<'S'
CREATE EXTENSION order_credit;
CREATE TABLE plain_events (source text NOT NULL CHECK (char_length(source) BETWEEN 1 AND 200), event_id text NOT NULL CHECK (char_length(event_id) BETWEEN 1 AND 200), processed_at timestamptz NOT NULL DEFAULT statement_timestamp(), PRIMARY KEY (source, event_id));
CREATE INDEX ON plain_events (processed_at);
S
chmod 644 "$W/coord_setup.sql"
cluster "$W/coord" "$W/coord_setup.sql"
event_row() { echo "EXECUTE p('evt_$1');"; }
ext=$(per_call "$W/coord" po_ext "PREPARE p(text) AS SELECT order_credit.process_once('bench', \$1);" event_row)
plain=$(per_call "$W/coord" po_plain "PREPARE p(text) AS INSERT INTO plain_events (source, event_id) VALUES ('bench', \$1) ON CONFLICT DO NOTHING RETURNING true;" event_row)
echo "process_once (direct_access=$DIRECT): $ext instructions per call; plain SQL: $plain"
fi
