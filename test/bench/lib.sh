# Shared pieces of the benchmark scripts (sourced, not run).
#
# Every area script (credit_bench.sh, stock_bench.sh, coordination_bench.sh,
# orders_bench.sh) calls `bench_cluster AREA DEFAULT_PORT [conf lines...]`:
#
# * alone: takes /tmp/order_credit.lock, builds with -Werror, installs, starts
#   its own throwaway cluster (scripts/cluster.sh) with the conf lines and
#   stops it on exit;
# * under test/bench/run_all.sh (OC_BENCH_SHARED=1): uses the cluster in
#   PGHOST/PGPORT (OC_BENCH_DIR: its directory), which run_all.sh started
#   after building and installing once while holding the lock.
#
# Either way the area gets a fresh database of its own, oc_bench_AREA
# (exported as PGDATABASE), and BENCH_DIR/BENCH_OUT for scratch files.
#
# Results for run_all.sh's summary: `bench_target AREA NAME VALUE OP TARGET`
# appends one line to $OC_BENCH_SUMMARY (when set).

PGBENCH=$(pg_config --bindir)/pgbench

# shared_buffers of the benchmark clusters: a quarter of the machine's RAM
# (the usual production sizing), at most 2GB, at least 256MB (the test
# clusters' setting). 256MB is smaller than the stock area's data set: its
# reserve runs leave ~700,000 reservations, and the extension keeps two rows
# and four index entries per reservation (the reservation and its claim,
# ~350 bytes) where the plain schema keeps one row and two entries (~140;
# the run prints both): at 256MB the extension's side spills out of shared
# buffers in the distinct-SKU rounds and its backends write out evicted
# pages (docs/benchmarks.md). Both sides run on the same setting.
bench_shared_buffers() {
    awk '/MemTotal/ {m = int($2 / 1024 / 4); if (m > 2048) m = 2048; if (m < 256) m = 256;
                     print m "MB"}' /proc/meminfo
}
psql() { command psql -X -q -v ON_ERROR_STOP=1 -P pager=off "$@"; }
val() { psql -At -c "$1"; }

bench_cluster() { # area default_port conf...
    local area=$1 port=$2
    shift 2
    if [ "${OC_BENCH_SHARED:-0}" = 1 ]; then
        : "${PGHOST:?}" "${PGPORT:?}" "${OC_BENCH_DIR:?}"
        BENCH_DIR=$OC_BENCH_DIR
        BENCH_OUT=$(mktemp -d "$BENCH_DIR/out-$area.XXXXXX")
        chmod 777 "$BENCH_OUT"
    else
        exec 9>/tmp/order_credit.lock
        if ! flock -n 9; then
            echo "waiting for /tmp/order_credit.lock"
            flock 9
        fi
        echo "== build (WERROR=1) and install"
        make -s -j2 WERROR=1 >/tmp/oc_bench_build.$$.log 2>&1 || { cat /tmp/oc_bench_build.$$.log; exit 1; }
        rm -f /tmp/oc_bench_build.$$.log
        make -s install WERROR=1 >/dev/null
        BENCH_DIR=$(mktemp -d /tmp/oc_bench_$area.XXXXXX)
        chmod 755 "$BENCH_DIR"
        BENCH_OUT=$BENCH_DIR/out
        mkdir -p "$BENCH_OUT"
        chmod 777 "$BENCH_OUT"
        trap 'rc=$?; scripts/cluster.sh stop "$BENCH_DIR" || true; rm -rf "$BENCH_DIR"; exit $rc' EXIT
        trap 'exit 130' INT TERM
        scripts/cluster.sh start "$BENCH_DIR" "${OC_BENCH_PORT:-${BENCH_PORT:-$port}}" \
            "shared_buffers = $(bench_shared_buffers)" "$@" ||
            { cat "$BENCH_DIR/server.log"; exit 1; }
        export PGHOST=$BENCH_DIR PGPORT=${OC_BENCH_PORT:-${BENCH_PORT:-$port}}
    fi
    export PGUSER=postgres PGDATABASE=postgres
    psql -c "DROP DATABASE IF EXISTS oc_bench_$area" -c "CREATE DATABASE oc_bench_$area"
    export PGDATABASE=oc_bench_$area
}

# Restarts the cluster (both modes) with extra postgresql.conf lines (they
# come last, so they win), e.g. shared_preload_libraries.
bench_restart() { # "name = value"...
    printf '%s\n' "$@" >>"$BENCH_DIR/data/postgresql.conf"
    scripts/cluster.sh restart "$BENCH_DIR" || { cat "$BENCH_DIR/server.log"; exit 1; }
}

bench_target() { # area name value op target   (op: >= or <=)
    [ -n "${OC_BENCH_SUMMARY:-}" ] && printf '%s|%s|%s|%s|%s\n' "$@" >>"$OC_BENCH_SUMMARY"
    return 0
}

# Foreign CPU: CPU time used during a run by anything but this cluster and
# pgbench, as a % of all CPUs. Call foreign_start before the run,
# foreign_end PGBENCH_CPU_SECONDS after it; prints the percentage.
HZ=$(getconf CLK_TCK)
NCPU=$(nproc)
busy_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8}' /proc/stat; }  # user nice system irq softirq
cluster_ticks() { # postmaster's own + exited children's + live children's user and system time
    local pm k
    pm=$(head -1 "$BENCH_DIR/data/postmaster.pid")
    # live children too: background workers (the sweeper), checkpointer and
    # WAL writer live across a run and would otherwise count as foreign.
    { awk '{print $14 + $15 + $16 + $17}' "/proc/$pm/stat"
      for k in $(ps --ppid "$pm" -o pid=); do awk '{print $14 + $15}' "/proc/$k/stat" 2>/dev/null || true; done
    } | awk '{s += $1} END {print s}'
}
kids() { ps --ppid "$(head -1 "$BENCH_DIR/data/postmaster.pid")" -o pid= | wc -l; }
foreign_start() { F_K0=$(kids) F_B0=$(busy_ticks) F_C0=$(cluster_ticks) F_T0=$(date +%s.%N); }
foreign_end() { # pgbench cpu seconds
    local b1 c1 t1 i
    # The run's backends exit after pgbench has: wait (up to 3 s) until they
    # are gone, or one reaped between the reads of cluster_ticks would count
    # as foreign.
    for i in $(seq 1 60); do [ "$(kids)" -le "$F_K0" ] && break; sleep 0.05; done
    b1=$(busy_ticks) c1=$(cluster_ticks) t1=$(date +%s.%N)
    awk -v b=$((b1 - F_B0)) -v c=$((c1 - F_C0)) -v p="$1" -v hz="$HZ" -v n="$NCPU" \
        -v t0="$F_T0" -v t1="$t1" \
        'BEGIN { f = (b / hz - c / hz - p) / (n * (t1 - t0)) * 100; if (f < 0) f = 0; printf "%.0f", f }'
}

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
ratio() { awk -v x="$1" -v y="$2" 'BEGIN {printf "%.2f", (y > 0 ? x / y : 0)}'; }
