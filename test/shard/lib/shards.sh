# Shared helpers of the sharded scenarios (test/shard/*.sh). Sourced, never
# run. A "system" is 4 shard databases (order_credit) and a proxy database
# (order_credit_proxy) in the cluster at PGHOST/PGPORT, which
# test/run_all.sh exports; a shard may instead live on another cluster.
source test/stress/lib/common.sh

# sh_system NAME [HOST3 PORT3]: (re)creates NAME_s0 .. NAME_s3 and NAME_proxy,
# the server order_credit_shards (p0 .. p3) with a user mapping, and runs
# setup_shards(). With HOST3 PORT3, shard 3 is a database of that cluster.
sh_system() {
    local name=$1 host3=${2:-$PGHOST} port3=${3:-$PGPORT} i host port
    for i in 0 1 2 3; do
        host=$PGHOST port=$PGPORT
        [ $i = 3 ] && host=$host3 port=$port3
        PGHOST=$host PGPORT=$port oc_psql -d postgres -c "SET client_min_messages = warning" \
            -c "DROP DATABASE IF EXISTS ${name}_s$i" -c "CREATE DATABASE ${name}_s$i" \
            -c "ALTER DATABASE ${name}_s$i SET order_credit.lock_timeout = '30s'" >/dev/null || return 1
        PGHOST=$host PGPORT=$port oc_psql -d "${name}_s$i" -c "CREATE EXTENSION order_credit" || return 1
    done
    oc_psql -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS ${name}_proxy" \
        -c "CREATE DATABASE ${name}_proxy" >/dev/null || return 1
    oc_psql -d "${name}_proxy" -c "SET client_min_messages = warning" \
        -c "CREATE EXTENSION order_credit_proxy CASCADE" \
        -c "CREATE SERVER order_credit_shards FOREIGN DATA WRAPPER plproxy OPTIONS (
                p0 'host=$PGHOST port=$PGPORT dbname=${name}_s0 connect_timeout=2',
                p1 'host=$PGHOST port=$PGPORT dbname=${name}_s1 connect_timeout=2',
                p2 'host=$PGHOST port=$PGPORT dbname=${name}_s2 connect_timeout=2',
                p3 'host=$host3 port=$port3 dbname=${name}_s3 connect_timeout=2')" \
        -c "CREATE USER MAPPING FOR PUBLIC SERVER order_credit_shards OPTIONS (user 'postgres')" \
        -c "SELECT * FROM order_credit_proxy.setup_shards()" >/dev/null || return 1
}

# sh_tenants PROXYDB SHARD COUNT: COUNT tenant names (w1, w2, ...) the proxy
# routes to SHARD, one a line.
sh_tenants() {
    oc_value "$1" "SELECT t FROM (SELECT 'w' || g AS t, g FROM generate_series(1, 1000) g) x
                    WHERE order_credit_proxy.shard_of_tenant(t) & 3 = $2 ORDER BY g LIMIT $3"
}

# sh_drop NAME [HOST3 PORT3]: drops the system's databases.
sh_drop() {
    local name=$1 i
    oc_psql -d postgres -c "DROP DATABASE IF EXISTS ${name}_proxy" >/dev/null
    for i in 0 1 2; do oc_psql -d postgres -c "DROP DATABASE IF EXISTS ${name}_s$i" >/dev/null; done
    PGHOST=${2:-$PGHOST} PGPORT=${3:-$PGPORT} oc_psql -d postgres -c "DROP DATABASE IF EXISTS ${name}_s3" >/dev/null
}
