# Shared by the monitoring scripts (sourced, never run): each starts a
# throwaway cluster with order_credit preloaded and stops it on exit,
# failing the script when its log shows a crash (the run's crash check only
# reads the main cluster's log).
source test/stress/lib/common.sh

# mon_cluster DIR PORT [conf lines...]: starts it; registers the stop.
mon_cluster() {
    local dir=$1 port=$2
    shift 2
    MON_DIR=$dir
    scripts/cluster.sh start "$dir" "$port" "shared_preload_libraries = 'order_credit'" "$@" ||
        { cat "$dir/server.log"; oc_die "cluster did not start"; }
    trap mon_stop EXIT
}
mon_stop() {
    local rc=$?
    scripts/cluster.sh stop "$MON_DIR"
    if grep -E "terminated by signal|PANIC|TRAP:" "$MON_DIR/server.log"; then
        oc_log "FAIL: crash in the cluster's log"
        rc=1
    fi
    oc_cleanup
    exit $rc
}
