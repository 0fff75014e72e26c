#!/usr/bin/env bash
# Benchmark: process_once() and idempotency_begin() + idempotency_complete()
# against plain SQL doing the same rows (INSERT ... ON CONFLICT DO NOTHING,
# plus an UPDATE for the key) on tables of the same shape, indexes and rules
# (column CHECKs); then, for information, against the same tables without
# any CHECK (one round, no target).
# Own throwaway cluster, pgbench -n -M prepared, 10 s per side and round
# (OC_BENCH_SECONDS), 3 rounds (OC_BENCH_ROUNDS), 8 and 32 clients, a fresh
# random id per transaction. Prints TPS and ratios (medians over rounds).
# Alone, exits non-zero when a ratio (extension / plain) is below 0.9; under
# test/bench/run_all.sh (shared cluster, lib.sh) only when a run fails.
# Holds /tmp/order_credit.lock for the whole run (installs the extension).
#
#   OC_BENCH_PORT=55505 test/bench/coordination_bench.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
SECS=${OC_BENCH_SECONDS:-10}
CLIENTS=${OC_BENCH_CLIENTS:-"8 32"}
. test/bench/lib.sh
bench_cluster coordination 55497 "fsync = off" "synchronous_commit = off" \
    "max_locks_per_transaction = 256"
if [ "${OC_BENCH_SHARED:-0}" = 1 ]; then
    # The shared cluster runs with fsync on: this area measures without it
    # (CPU cost, not commit latency), as when run alone; restored at the end.
    psql -c "ALTER SYSTEM SET fsync = off" -c "ALTER SYSTEM SET synchronous_commit = off" \
         -c "SELECT pg_reload_conf()" >/dev/null
    sleep 1
    trap 'psql -d postgres -c "ALTER SYSTEM RESET fsync" -c "ALTER SYSTEM RESET synchronous_commit" -c "SELECT pg_reload_conf()" >/dev/null' EXIT
fi
echo "settings: $(val "SELECT string_agg(name || '=' || setting, ', ' ORDER BY name) FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit')")"
psql <<'SQL'
CREATE EXTENSION order_credit;
-- The plain tables: the columns, keys and indexes of the extension's tables,
-- and their rules as the column CHECK constraints an application declares
-- (the extension's tables carry the same rules as one row check per table,
-- src/sql/45_row_checks.sql; LIKE cannot copy that one, and it would not be
-- plain SQL).
CREATE TABLE plain_events (
    source        text NOT NULL CHECK (char_length(source) BETWEEN 1 AND 200),
    event_id      text NOT NULL CHECK (char_length(event_id) BETWEEN 1 AND 200),
    processed_at  timestamptz NOT NULL DEFAULT statement_timestamp(),
    PRIMARY KEY (source, event_id));
CREATE INDEX ON plain_events (processed_at);
CREATE TABLE plain_keys (
    key               text PRIMARY KEY CHECK (char_length(key) BETWEEN 1 AND 200),
    fingerprint       text NOT NULL CHECK (char_length(fingerprint) BETWEEN 1 AND 1000),
    state             text NOT NULL DEFAULT 'in_progress' CHECK (state IN ('in_progress', 'completed')),
    response          jsonb,
    response_code     int CHECK (response_code BETWEEN 100 AND 599),
    recovery_point    text CHECK (char_length(recovery_point) BETWEEN 1 AND 1000),
    lease             interval,
    lease_expires_at  timestamptz,
    resumed           int NOT NULL DEFAULT 0,
    created_at        timestamptz NOT NULL DEFAULT statement_timestamp(),
    updated_at        timestamptz NOT NULL DEFAULT statement_timestamp(),
    completed_at      timestamptz,
    CHECK ((state = 'completed') = (response IS NOT NULL AND response_code IS NOT NULL)));
CREATE INDEX ON plain_keys (created_at);
-- The same two without any CHECK: the lightest plain SQL could be (no
-- integrity rules at all), reported beside the main baseline.
CREATE TABLE bare_events (LIKE plain_events INCLUDING DEFAULTS INCLUDING INDEXES);
CREATE TABLE bare_keys (LIKE plain_keys INCLUDING DEFAULTS INCLUDING INDEXES);
SQL

S=$BENCH_OUT/scripts
mkdir -p "$S"
cat >"$S/once_ext.sql" <<'SQL'
\set id random(1, 1000000000000000)
SELECT order_credit.process_once('bench', 'evt_' || :id);
SQL
cat >"$S/once_plain.sql" <<'SQL'
\set id random(1, 1000000000000000)
INSERT INTO plain_events (source, event_id) VALUES ('bench', 'evt_' || :id)
    ON CONFLICT DO NOTHING RETURNING true;
SQL
cat >"$S/idem_ext.sql" <<'SQL'
\set id random(1, 1000000000000000)
BEGIN;
SELECT state FROM order_credit.idempotency_begin('key_' || :id, 'fp-0123456789abcdef');
SELECT order_credit.idempotency_complete('key_' || :id, '{"order": 42, "status": "paid"}', 201);
COMMIT;
SQL
cat >"$S/idem_plain.sql" <<'SQL'
\set id random(1, 1000000000000000)
BEGIN;
INSERT INTO plain_keys (key, fingerprint) VALUES ('key_' || :id, 'fp-0123456789abcdef')
    ON CONFLICT DO NOTHING RETURNING state;
UPDATE plain_keys SET state = 'completed', response = '{"order": 42, "status": "paid"}',
       response_code = 201, lease_expires_at = NULL, completed_at = statement_timestamp(),
       updated_at = statement_timestamp()
 WHERE key = 'key_' || :id AND state = 'in_progress';
COMMIT;
SQL
# The bare variants: the same statements on the tables without CHECKs.
cp "$S/once_ext.sql" "$S/oncebare_ext.sql"
cp "$S/idem_ext.sql" "$S/idembare_ext.sql"
sed 's/plain_events/bare_events/' "$S/once_plain.sql" >"$S/oncebare_plain.sql"
sed 's/plain_keys/bare_keys/' "$S/idem_plain.sql" >"$S/idembare_plain.sql"

tps() { # script clients seconds (a failed pgbench run stops the benchmark)
    local log=$BENCH_OUT/pgbench.log t
    "$PGBENCH" -n -M prepared -c "$2" -j 2 -T "$3" -f "$S/$1" >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
    t=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$log")
    if [ -z "$t" ] || grep -qiE "error|aborted" "$log"; then cat "$log" >&2; exit 1; fi
    echo "$t"
}
# One round: each side runs SECS seconds in two halves, in the order ext,
# plain, plain, ext, so that a change of machine load during the round hits
# both alike. ROUNDS rounds (OC_BENCH_ROUNDS, default 3) and the median of
# their ratios: on 2 cores shared with other work a single round swings by
# 0.2 either way; the median of three does not follow one disturbed round.
# Both sides get the same rounds and seconds.
ROUNDS=${OC_BENCH_ROUNDS:-3}
pair() { # workload clients -> "ext plain ratio" (medians over the rounds)
    local half=$(((SECS + 1) / 2)) e1 p1 p2 e2 r rows=""
    for ((r = 0; r < ROUNDS; r++)); do
        e1=$(tps "$1_ext.sql" "$2" $half) && p1=$(tps "$1_plain.sql" "$2" $half) &&
        p2=$(tps "$1_plain.sql" "$2" $half) && e2=$(tps "$1_ext.sql" "$2" $half) || exit 1
        rows+=$(awk -v a="$e1" -v b="$e2" -v c="$p1" -v d="$p2" \
            'BEGIN { printf "%s %s %s\n", (a + b) / 2, (c + d) / 2, (a + b) / (c + d) }')$'\n'
    done
    echo "rounds ($1, $2 clients; ext plain ratio): $(printf '%s' "$rows" | tr '\n' ';')" >&2
    printf '%s' "$rows" | awk '{ e[NR] = $1; p[NR] = $2; q[NR] = $3 }
        function med(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
            if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
            return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
        END { print med(e, NR), med(p, NR), med(q, NR) }'
}
printf '%-28s %8s %12s %12s %7s\n' workload clients extension plain ratio
status=0
for w in once idem; do
    for c in $CLIENTS; do
        psql -c "CHECKPOINT"
        pr=$(pair "$w" "$c")
        read -r ext plain ratio <<<"$pr"
        ratio=$(awk -v r="$ratio" 'BEGIN { printf "%.2f", r }')
        name=$([ $w = once ] && echo "process_once" || echo "idempotency begin+complete")
        printf '%-28s %8s %12.0f %12.0f %7s\n' "$name" "$c" "$ext" "$plain" "$ratio"
        bench_target coordination "$name / plain SQL, $c clients" "$ratio" ">=" 0.9
        awk -v r="$ratio" 'BEGIN { exit !(r >= 0.9) }' || status=1
    done
done
# Beside the targets, not instead of them: the same pairs against the bare
# tables (no CHECK at all), one round each, to show how much of the ratio is
# the cost of declarative CHECKs that the extension's row check avoids.
ROUNDS=1
for w in once idem; do
    for c in $CLIENTS; do
        pr=$(pair "${w}bare" "$c")
        read -r ext plain ratio <<<"$pr"
        name=$([ $w = once ] && echo "process_once" || echo "idempotency begin+complete")
        printf '%-28s %8s %12.0f %12.0f %7.2f   (vs tables without CHECKs; no target)\n' \
            "$name" "$c" "$ext" "$plain" "$ratio"
    done
done
val "SELECT 'rows: events ' || (SELECT count(*) FROM order_credit.processed_events) || ' / plain ' || (SELECT count(*) FROM plain_events) || ', keys ' || (SELECT count(*) FROM order_credit.idempotency_keys WHERE state = 'completed') || ' / plain ' || (SELECT count(*) FROM plain_keys WHERE state = 'completed')"
[ $status -eq 0 ] && echo "all ratios >= 0.9" || echo "some ratio below 0.9"
# Alone it exits 1 when a ratio misses its target; under run_all.sh a missed
# target is reported in the summary, not as a failure.
[ "${OC_BENCH_SHARED:-0}" = 1 ] && exit 0
exit $status
