#!/usr/bin/env bash
# Striped items under mixed load for 10 s (the bucket gates of
# src/pg/stock/reserve_direct.cpp against every other writer of the buckets): 40 clients
# reserve three small striped items (40 units over 8 buckets, 24 over 4, 18
# over 3) in multi-item orders that list the SKUs in either order, or one
# SKU alone, with 1-2 s expiry; others commit or release earlier orders in
# their own transactions or restock an item (adjust_stock); two sessions
# run expire_due(500) all the time.
# Stock runs out over and over, so buyers also take the slow path. Expected:
# no failed or aborted transaction (no deadlock, no lock timeout), buyers
# both placed and refused (OC004), nothing oversold, verify() empty.
cd "$(dirname "$0")" && source lib/stock_barrier.sh
DB=oc_stress_gates OUT=$(mktemp -d)
PGBENCH=$(pg_config --bindir)/pgbench
db_create $DB
psql -X -q -v ON_ERROR_STOP=1 -d $DB >/dev/null <<'SQL' || fail "setup"
SELECT order_credit.set_stock('A', 40, 8), order_credit.set_stock('B', 24, 4),
       order_credit.set_stock('C', 18, 3);
CREATE SEQUENCE ref_seq;
CREATE SEQUENCE placed_count;
CREATE SEQUENCE refused_count;
CREATE FUNCTION gate_order(q1 int, q2 int, flip bool) RETURNS void LANGUAGE plpgsql AS $$
DECLARE items jsonb;
BEGIN
    items := CASE WHEN flip
        THEN jsonb_build_array(jsonb_build_object('sku', 'B', 'quantity', q1),
                               jsonb_build_object('sku', 'A', 'quantity', q2),
                               jsonb_build_object('sku', 'C', 'quantity', 1))
        ELSE jsonb_build_array(jsonb_build_object('sku', 'C', 'quantity', 1),
                               jsonb_build_object('sku', 'A', 'quantity', q2),
                               jsonb_build_object('sku', 'B', 'quantity', q1)) END;
    PERFORM order_credit.reserve_stock(items, 'o' || nextval('ref_seq'), interval '2 seconds');
    PERFORM nextval('placed_count');
EXCEPTION WHEN SQLSTATE 'OC004' THEN
    PERFORM nextval('refused_count');
END $$;
CREATE FUNCTION gate_single(q int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF (order_credit.try_reserve_stock('A', q, 'o' || nextval('ref_seq'), interval '1 second')).ok
    THEN PERFORM nextval('placed_count'); ELSE PERFORM nextval('refused_count'); END IF;
END $$;
-- Commits or releases an earlier order in its own transaction (one that
-- never existed, expired or was settled already: the contract's outcome).
CREATE FUNCTION gate_settle(n bigint, do_commit bool) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF do_commit THEN PERFORM order_credit.commit_stock('o' || n);
    ELSE PERFORM order_credit.release_stock('o' || n); END IF;
EXCEPTION WHEN SQLSTATE 'OC005' OR SQLSTATE 'OC006' OR SQLSTATE 'OC007' OR SQLSTATE 'OC008' THEN
    NULL;
END $$;
SQL
cat >"$OUT/order.sql" <<'SQL'
\set q1 random(1, 3)
\set q2 random(1, 3)
\set flip random(0, 1)
SELECT gate_order(:q1, :q2, :flip = 1);
SQL
cat >"$OUT/single.sql" <<'SQL'
\set q random(1, 2)
SELECT gate_single(:q);
SQL
cat >"$OUT/settle.sql" <<'SQL'
\set c random(0, 1)
SELECT gate_settle(greatest(last_value - (random() * 300)::int, 1), :c = 1) FROM ref_seq;
SQL
cat >"$OUT/restock.sql" <<'SQL'
\set i random(0, 2)
SELECT order_credit.adjust_stock((ARRAY['A', 'B', 'C'])[:i + 1], 3, 'restock');
SQL
echo "SELECT order_credit.expire_due(500);" >"$OUT/sweep.sql"
export PGDATABASE=$DB PGOPTIONS="-c order_credit.lock_timeout=30s"
"$PGBENCH" -n -c 2 -T 10 -f "$OUT/sweep.sql" >"$OUT/sweep.log" 2>&1 &
SWEEP=$!
"$PGBENCH" -n -c 40 -j 2 -T 10 -f "$OUT/order.sql@4" -f "$OUT/single.sql@2" -f "$OUT/settle.sql@1" -f "$OUT/restock.sql@1" \
    >"$OUT/buyers.log" 2>&1
rc=$?
wait $SWEEP
src=$?
unset PGOPTIONS
grep -E "processed|failed|aborted|error" "$OUT/buyers.log" | head -5
expect_eq "buyers' pgbench exit status" "$rc" 0
expect_eq "sweepers' pgbench exit status" "$src" 0
expect_eq "failed transactions (deadlock, serialization)" \
    "$(awk '/^number of failed transactions/ {print $5}' "$OUT/buyers.log")" 0
expect_eq "aborted clients" "$(grep -c "aborted" "$OUT/buyers.log" "$OUT/sweep.log" | awk -F: '{s += $2} END {print s}')" 0
placed=$(q $DB "SELECT last_value FROM placed_count")
refused=$(q $DB "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM refused_count")
echo "orders placed: $placed, refused with OC004: $refused"
expect_eq "buyers both placed and refused" "$([ "$placed" -gt 100 ] && [ "$refused" -gt 100 ] && echo yes)" yes
expect_eq "no item oversold" \
    "$(q $DB "SELECT count(*) FROM order_credit.stock_buckets WHERE reserved > on_hand OR reserved < 0")" 0
verify_empty $DB
rm -rf "$OUT"
