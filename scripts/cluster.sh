#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster run by the postgres OS user (PostgreSQL
# refuses to run as root).
#
#   scripts/cluster.sh start DIR PORT [postgresql.conf lines...]
#   scripts/cluster.sh restart DIR   (e.g. after ALTER SYSTEM of a restart-only setting)
#   scripts/cluster.sh stop DIR
#
# Clients connect with: psql -h DIR -p PORT -U postgres
set -euo pipefail
BIN=$(pg_config --bindir)
cmd=$1 dir=$2
# fd 9 is closed for the server: it is test/run_all.sh's lock, which a
# server left running must not keep.
as_pg() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@" 9>&-; else "$@" 9>&-; fi
}
case "$cmd" in
start)
    port=$3
    shift 3
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
    as_pg "$BIN/initdb" -D "$dir/data" -U postgres --auth=trust --no-sync -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log"
    {
        echo "port = $port"
        echo "listen_addresses = ''"
        echo "unix_socket_directories = '$dir'"
        echo "max_connections = 260"
        echo "shared_buffers = 256MB"
        echo "log_min_messages = warning"
        echo "log_line_prefix = '%m [%p] '"
        for line in "$@"; do echo "$line"; done
    } >>"$dir/data/postgresql.conf"
    as_pg "$BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null
    ;;
restart)
    as_pg "$BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -m fast -w -t 60 restart >/dev/null
    ;;
stop)
    [ -d "$dir/data" ] && as_pg "$BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    ;;
*)
    echo "usage: $0 start DIR PORT [conf...] | restart DIR | stop DIR" >&2
    exit 2
    ;;
esac
