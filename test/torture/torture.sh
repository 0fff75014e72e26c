#!/usr/bin/env bash
# Torture: evidence under faults (docs/testing.md, "Torture").
#
#   test/torture/torture.sh                      short mode (about a minute; run_all.sh runs it)
#   test/torture/torture.sh --long [--seed N] [--seconds S] [--sessions N] [--modes "on off rr"]
#
# On a cluster of its own (order_credit preloaded, its sweeper serving the
# three databases every 100 ms, fsync and synchronous_commit on so that crash
# recovery is real), for each mode:
#   on   direct_access on,  READ COMMITTED callers
#   off  direct_access off, READ COMMITTED callers
#   rr   REPEATABLE READ and SERIALIZABLE callers (half each), retrying 40001
# driver.py runs a seeded random workload of every write function from 32
# sessions, each logging what the server acknowledged; meanwhile the suite
# SIGKILLs a client backend, the sweeper, and the postmaster with all its
# children (then pg_ctl start; the clients reconnect and go on). Short mode:
# each once per mode (12 s of workload per mode, and at least 3 s and one
# acknowledged transaction after the last restart); long mode (120 s per
# mode unless --seconds): one after the other, every 10 s. Then
# reconcile.py checks the logs against the database (every acknowledged
# operation present with its effect, nothing present that was rolled back or
# refused, no unit oversold, no account over its limit, verify() empty,
# amcheck clean) and logcheck.py the server log (no 40P01, XX000, TRAP,
# PANIC, no death by a signal the suite did not send).
#
# Any deadlock (40P01) fails the run. OC_TORTURE_ALLOW_EXPIRE_DEADLOCK=1
# tolerates (counts and reports) one that involves expire_due or the sweeper
# in modes off and rr: for builds from before expire_due took its locks in
# the extension's order.
#
# The same --seed gives every session the same sequence of calls (checked:
# the modes' call lists agree on their common prefix). Replay a failure with
# the seed it printed. OC_TORTURE_PORT (default 55560) picks the port.
set -uo pipefail
cd "$(dirname "$0")/../.."
source test/stress/lib/common.sh
PY=/usr/bin/python3 # Debian's python3, where python3-psycopg2 lives

LONG=0 SEED="" SECS="" SESSIONS=32 MODES="on off rr"
while [ $# -gt 0 ]; do
    case "$1" in
    --long) LONG=1 ;;
    --seed) SEED=$2; shift ;;
    --seconds) SECS=$2; shift ;;
    --sessions) SESSIONS=$2; shift ;;
    --modes) MODES=$2; shift ;;
    *) echo "usage: $0 [--long] [--seed N] [--seconds S] [--sessions N] [--modes \"on off rr\"]" >&2; exit 2 ;;
    esac
    shift
done
if [ $LONG -eq 1 ]; then
    SEED=${SEED:-$(date +%s)} SECS=${SECS:-120}
else
    SEED=${SEED:-1} SECS=${SECS:-12}
fi
ALLOW=${OC_TORTURE_ALLOW_EXPIRE_DEADLOCK:-0}
PORT=${OC_TORTURE_PORT:-55560}
$PY -c "import psycopg2" 2>/dev/null || oc_die "python3-psycopg2 is missing (scripts/install-deps.sh installs it)"

OC_TMP=$(mktemp -d /tmp/oc_torture.XXXXXX)
chmod 755 "$OC_TMP"
C=$OC_TMP/c
BIN=$(pg_config --bindir)
DRIVER_PID=""
finish() {
    [ -n "$DRIVER_PID" ] && kill "$DRIVER_PID" 2>/dev/null
    scripts/cluster.sh stop "$C"
    if [ "${OC_TORTURE_KEEP:-0}" = 1 ] || [ "${FAILED:-0}" -ne 0 ]; then
        oc_log "logs kept in $OC_TMP (server log: $C/server.log)"
    else
        rm -rf "$OC_TMP"
    fi
}
trap finish EXIT
as_pg() { runuser -u postgres -- "$@"; }

oc_log "seed $SEED, $SESSIONS sessions, ${SECS} s per mode, modes: $MODES$([ $LONG -eq 1 ] && echo ' (long)')"
start_all=$SECONDS
scripts/cluster.sh start "$C" "$PORT" \
    "shared_preload_libraries = 'order_credit'" "order_credit.sweep_interval = 100ms" \
    "fsync = on" "synchronous_commit = on" "recovery_init_sync_method = syncfs" \
    "log_line_prefix = '%m [%p] %e '" \
    "max_locks_per_transaction = 256" || oc_die "cluster did not start"
export PGHOST=$C PGPORT=$PORT PGUSER=postgres
for m in on off rr; do
    oc_fresh_db tort_$m >/dev/null && oc_psql -d tort_$m -f test/torture/setup.sql >/dev/null ||
        oc_die "cannot set up tort_$m"
done
oc_psql -d postgres -c "ALTER DATABASE tort_off SET order_credit.direct_access = off" \
    -c "ALTER SYSTEM SET order_credit.database = 'tort_on,tort_off,tort_rr'" >/dev/null || oc_die "settings"
scripts/cluster.sh restart "$C" || oc_die "restart failed"
oc_check "direct_access in tort_off" off "$(oc_value tort_off "SHOW order_credit.direct_access")"

sweepers() { # DB: pids of the DB's sweeper
    oc_value postgres "SELECT string_agg(pid::text, ' ') FROM pg_stat_activity
                        WHERE backend_type = 'order_credit sweeper' AND datname = '$1'" 2>/dev/null
}
wait_up() { # DB: server accepts connections and the DB's sweeper runs
    local deadline=$((SECONDS + 60))
    until [ -n "$(sweepers "$1")" ]; do
        [ $SECONDS -ge $deadline ] && { oc_log "FAIL: server or sweeper of $1 not back within 60 s"; return 1; }
        sleep 0.2
    done
}

KILLED=()
kill_backend() {
    local pid
    pid=$(oc_value postgres "SELECT pid FROM pg_stat_activity WHERE datname = '$1' AND backend_type = 'client backend'
                              AND application_name LIKE 'torture-%' ORDER BY state = 'active' DESC, random() LIMIT 1")
    [ -n "$pid" ] || { oc_log "FAIL: no client backend to kill"; return 1; }
    kill -9 "$pid" && KILLED+=("$pid") && oc_log "$2: SIGKILL client backend $pid"
    wait_up "$1"
}
kill_sweeper() {
    local pid
    pid=$(sweepers "$1")
    [ -n "$pid" ] || { oc_log "FAIL: no sweeper to kill"; return 1; }
    kill -9 "$pid" && KILLED+=("$pid") && oc_log "$2: SIGKILL sweeper $pid"
    wait_up "$1"
    oc_log "$2: sweeper back as $(sweepers "$1")"
}
kill_postmaster() {
    local pm kids t0
    pm=$(head -n 1 "$C/data/postmaster.pid")
    kids=$(ps -o pid= --ppid "$pm" | tr -s ' \n' ' ')
    kill -9 "$pm" $kids && oc_log "$2: SIGKILL postmaster $pm and its $(echo $kids | wc -w) children"
    t0=$SECONDS
    while alive "$pm" $kids; do sleep 0.05; done
    # The killed postmaster stays a zombie until this machine's init reaps
    # it (seconds here), and PostgreSQL takes a zombie's pid in
    # postmaster.pid for a live postmaster. It is dead: remove the stale lock.
    # The same for the socket's lock file.
    [ -e "/proc/$pm" ] && rm -f "$C/data/postmaster.pid" "$C/.s.PGSQL.$PORT.lock"
    as_pg "$BIN/pg_ctl" -D "$C/data" -l "$C/server.log" -w -t 120 start >/dev/null ||
        { oc_log "FAIL: pg_ctl start after the kill"; DOWN=1; return 1; }
    wait_up "$1"
    oc_log "$2: restarted (crash recovery) in $((SECONDS - t0)) s"
}
alive() { # PIDS: true while one of them runs (a zombie does not count)
    local p
    for p in "$@"; do
        [ -r "/proc/$p/stat" ] && [ "$(awk '{ print $3 }' "/proc/$p/stat" 2>/dev/null)" != "Z" ] && return 0
    done
    return 1
}

acked_after() { # OUT EPOCH: true once a session logged an acknowledged transaction started after EPOCH
    $PY - "$1" "$2" <<'EOF'
import glob, json, sys
after = float(sys.argv[2])
for f in glob.glob(sys.argv[1] + "/s*.jsonl"):
    for line in open(f):
        try:
            r = json.loads(line)
        except ValueError:
            continue
        if r.get("outcome") == "ack" and r.get("t", 0) > after:
            sys.exit(0)
sys.exit(1)
EOF
}

FAILED=0
SUMMARY=()
for mode in $MODES; do
    db=tort_$mode
    out=$OC_TMP/$mode
    t_mode=$SECONDS
    opts=()
    allow=0
    case $mode in
    on) ;;
    off) allow=$ALLOW ;;
    rr) allow=$ALLOW; opts+=(--isolation mixed) ;;
    *) oc_die "unknown mode $mode" ;;
    esac
    [ "$allow" = 1 ] && opts+=(--allow-deadlock)
    offset=$(stat -c %s "$C/server.log")
    KILLED=()
    rm -f "$out.stop"
    $PY test/torture/driver.py run --dsn "host=$C port=$PORT user=postgres dbname=$db" --sessions "$SESSIONS" \
        --seed "$SEED" --seconds "$SECS" --stop-file "$out.stop" --out "$out" "${opts[@]}" >"$OC_TMP/driver_$mode.log" 2>&1 &
    DRIVER_PID=$!
    # Faults: backend, sweeper, postmaster; short mode once each at 1/8, 2/8
    # and 3/8 of the run, so that the clients still have more than half of it
    # after the postmaster's crash recovery (1-3 s here, longer on a loaded
    # machine, and the sweeper's restart after each fault is waited for);
    # long mode one after the other every 10 s until the last second. The
    # clients go on after each restart.
    step=$(awk -v s="$SECS" -v l=$LONG 'BEGIN { print (l ? 10 : s / 8) }')
    max_kills=$([ $LONG -eq 1 ] && echo 1000000 || echo 3)
    faults=(kill_backend kill_sweeper kill_postmaster)
    kills=0
    t0=$(date +%s.%N)
    while [ $kills -lt $max_kills ]; do
        next=$(awk -v t0="$t0" -v st="$step" -v k=$kills 'BEGIN { printf "%.2f", t0 + st * (k + 1) }')
        awk -v n="$next" -v s="$SECS" -v t0="$t0" 'BEGIN { exit !(n < t0 + s - 1) }' || break
        sleep "$(awk -v n="$next" -v now="$(date +%s.%N)" 'BEGIN { d = n - now; print (d > 0 ? d : 0) }')"
        kill -0 $DRIVER_PID 2>/dev/null || break
        ${faults[$((kills % 3))]} "$db" "$mode" || FAILED=1
        kills=$((kills + 1))
        date +%s.%N >"$out.restart"
        [ "${DOWN:-0}" = 1 ] && break
    done
    [ $kills -ge 3 ] || { oc_log "FAIL: $mode: only $kills of the 3 faults happened before the workload ended"; FAILED=1; }
    # The workload runs its SECS, and at least SECS/4 after the last restart
    # and until a session has been acknowledged after it (at most 60 s more):
    # on a loaded machine reconnecting 32 sessions and crash recovery can
    # take most of a fixed window.
    end=$(awk -v t0="$t0" -v s="$SECS" -v r="$(cat "$out.restart" 2>/dev/null || echo 0)" \
        'BEGIN { e = t0 + s; if (r + s / 4 > e) e = r + s / 4; printf "%.2f", e }')
    sleep "$(awk -v n="$end" -v now="$(date +%s.%N)" 'BEGIN { d = n - now; print (d > 0 ? d : 0) }')"
    t_wait=$SECONDS
    until acked_after "$out" "$(cat "$out.restart" 2>/dev/null || echo 0)"; do
        kill -0 $DRIVER_PID 2>/dev/null || break
        [ $((SECONDS - t_wait)) -ge 60 ] && break
        sleep 0.5
    done
    touch "$out.stop"
    wait $DRIVER_PID
    drc=$?
    DRIVER_PID=""
    cat "$OC_TMP/driver_$mode.log"
    [ $drc -eq 0 ] || { oc_log "FAIL: driver exited with $drc"; FAILED=1; }
    sleep 1.6 # the short expiries (< 1.5 s) fall due; reconcile.py sweeps them
    $PY test/torture/reconcile.py --dsn "host=$C port=$PORT user=postgres dbname=$db" --out "$out" --label "$mode" \
        --after "$(cat "$out.restart" 2>/dev/null || echo 0)" ||
        FAILED=1
    $PY test/torture/logcheck.py "$C/server.log" "$offset" "$mode" "$allow" "${KILLED[@]}" | tee "$out/logcheck.txt"
    [ "${PIPESTATUS[0]}" -eq 0 ] || FAILED=1
    d40=$(grep -oE "^\[$mode\] server log: [0-9]+ deadlocks" "$out/logcheck.txt" | grep -oE "[0-9]+ deadlocks")
    SUMMARY+=("$mode: $kills kills, $d40, $((SECONDS - t_mode)) s")
    [ "${DOWN:-0}" = 1 ] && { oc_log "FAIL: the server is down; the other modes are skipped"; FAILED=1; break; }
done

# Reproducibility: the same seed drew the same calls in every mode (each
# session's call list is a prefix of the longer one).
set -- $MODES
if [ $# -ge 2 ]; then
    $PY - "$OC_TMP" "$@" <<'EOF' || FAILED=1
import os, sys
d, modes = sys.argv[1], sys.argv[2:]
bad = 0
for f in sorted(os.listdir(os.path.join(d, modes[0]))):
    if not f.endswith(".calls"):
        continue
    lists = [open(os.path.join(d, m, f)).read().splitlines() for m in modes]
    n = min(len(x) for x in lists)
    bad += any(x[:n] != lists[0][:n] for x in lists)
print("[torture] same seed, same calls: %s (%d sessions compared across %s)" % ("FAIL" if bad else "ok", len([f for f in os.listdir(os.path.join(d, modes[0])) if f.endswith(".calls")]), " ".join(modes)))
sys.exit(1 if bad else 0)
EOF
fi

for s in "${SUMMARY[@]}"; do oc_log "$s"; done
oc_log "seed $SEED; $((SECONDS - start_all)) s in all"
[ "$OC_FAILURES" -eq 0 ] || FAILED=1
if [ $FAILED -ne 0 ]; then
    oc_log "FAILED (replay: bash test/torture/torture.sh$([ $LONG -eq 1 ] && echo " --long") --seed $SEED --seconds $SECS --sessions $SESSIONS)"
    exit 1
fi
oc_log "all checks passed"
