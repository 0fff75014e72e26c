#!/usr/bin/env bash
# The Debian package: builds postgresql-15-order-credit from this tree with
# PostgreSQL's packaging tools (debian/, pg_buildext, debhelper), checks what
# it holds, installs it on this machine, and then, on a throwaway cluster of
# the installed package: CREATE EXTENSION, a smoke check, the upgrade from
# 1.0, and `make installcheck` (every pg_regress test and isolation spec)
# against that running server.
#
#   bash test/package/deb.sh            build, install, test (the package stays installed)
#   bash test/package/deb.sh --remove   the same, then dpkg -r the package
#
# Not part of test/run_all.sh's default suites (the package build compiles
# everything once more: a few minutes). OC_DEB_PORT (default 55590).
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
PORT=${OC_DEB_PORT:-55590}
REMOVE=0
[ "${1:-}" = "--remove" ] && REMOVE=1
log() { echo "[deb] $*"; }
die() { log "FAIL: $*"; exit 1; }
FAILED=0
check() { # DESCRIPTION EXPECTED ACTUAL
    if [ "$2" == "$3" ]; then log "ok:   $1 = $3"; else log "FAIL: $1: expected $2, got $3"; FAILED=1; fi
}

need=()
for p in debhelper postgresql-server-dev-all dpkg-dev fakeroot; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
    log "installing ${need[*]}"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null ||
        die "apt-get install ${need[*]}"
fi
bash scripts/install-deps.sh >/dev/null || die "scripts/install-deps.sh"

EXTVERSION=$(sed -n "s/^default_version = '\(.*\)'/\1/p" order_credit.control)
DEBVERSION=$(dpkg-parsechangelog -S Version)
check "debian/changelog's upstream version is the control file's default_version" "$EXTVERSION" "${DEBVERSION%-*}"
check "debian/control is what debian/control.in gives (pg_buildext checkcontrol)" 0 \
    "$(pg_buildext checkcontrol >/dev/null 2>&1; echo $?)"

T=$(mktemp -d /tmp/oc_deb.XXXXXX)
chmod 755 "$T"
C=$T/cluster
STOPPED=0
cleanup() {
    [ $STOPPED -eq 0 ] && [ -d "$C/data" ] && scripts/cluster.sh stop "$C"
    rm -rf "$T"
}
trap cleanup EXIT

# The tree as git has it, uncommitted changes included, without build output.
SRC=$T/order-credit-$EXTVERSION
mkdir -p "$SRC"
git ls-files -z --cached --others --exclude-standard | grep -zv '^examples/.*/node_modules/' |
    xargs -0 cp --parents -t "$SRC" 2>/dev/null
[ -f "$SRC/debian/rules" ] || die "copying the tree to $SRC"

log "dpkg-buildpackage -us -uc -b (log: $T/build.log)"
t0=$SECONDS
(cd "$SRC" && dpkg-buildpackage -us -uc -b) >"$T/build.log" 2>&1 || { tail -n 40 "$T/build.log"; die "dpkg-buildpackage"; }
DEB=$(ls "$T"/postgresql-15-order-credit_*_*.deb 2>/dev/null | grep -v dbgsym | head -n 1)
[ -n "$DEB" ] || die "no .deb in $T"
log "built $(basename "$DEB") in $((SECONDS - t0)) s"

# What the package holds: the library, the control file and every versioned script.
EXT=/usr/share/postgresql/15/extension
LIB=/usr/lib/postgresql/15/lib
contents=$(dpkg-deb -c "$DEB" | awk '{ print $NF }' | sed 's#^\./#/#')
for f in "$LIB/order_credit.so" "$EXT/order_credit.control" "$EXT/order_credit--$EXTVERSION.sql" \
    $(cd sql && ls order_credit--*.sql | sed "s#^#$EXT/#"); do
    check "package holds $f" yes "$(grep -qx "$f" <<<"$contents" && echo yes || echo no)"
done
check "package name" postgresql-15-order-credit "$(dpkg-deb -f "$DEB" Package)"
check "package depends on postgresql-15" yes "$(dpkg-deb -f "$DEB" Depends | grep -q 'postgresql-15' && echo yes || echo no)"
check "package depends on libfmt" yes "$(dpkg-deb -f "$DEB" Depends | grep -q 'libfmt' && echo yes || echo no)"

# Install and test under the machine-wide lock: every checkout installs
# into the same PostgreSQL directories.
exec 9>/tmp/order_credit.lock
flock 9
log "dpkg -i $(basename "$DEB")"
dpkg -i "$DEB" >"$T/dpkg.log" 2>&1 || { cat "$T/dpkg.log"; die "dpkg -i"; }
check "dpkg reports the package installed" "install ok installed" \
    "$(dpkg-query -W -f='${Status}' postgresql-15-order-credit)"
check "installed library is the package's (dpkg --verify)" "" "$(dpkg --verify postgresql-15-order-credit 2>&1)"

9>&- scripts/cluster.sh start "$C" "$PORT" || die "cluster start"
export PGHOST=$C PGPORT=$PORT PGUSER=postgres
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }
q postgres "CREATE DATABASE smoke" || die "create database"
q smoke "CREATE EXTENSION order_credit" || die "CREATE EXTENSION"
check "extension version" "$EXTVERSION" "$(q smoke "SELECT extversion FROM pg_extension WHERE extname = 'order_credit'")"
q smoke "SELECT order_credit.create_account('r1', 100000)" >/dev/null
q smoke "SELECT order_credit.set_stock('sku-1', 5)" >/dev/null
check "place_order" pending "$(q smoke "SELECT status FROM order_credit.place_order('o1', '[{\"sku\":\"sku-1\",\"quantity\":2,\"unit_price\":100}]', 'r1', '10 minutes')")"
check "the second order for more than the stock left is refused" OC004 "$(psql -X -q -At -d smoke -v VERBOSITY=sqlstate \
    -c "SELECT order_credit.place_order('o2', '[{\"sku\":\"sku-1\",\"quantity\":4,\"unit_price\":100}]', 'r1', '10 minutes')" 2>&1 | grep -oE 'OC[0-9]+' | head -n 1)"
check "confirm_order" paid "$(q smoke "SELECT status FROM order_credit.confirm_order('o1')")"
check "credit posted" "200" "$(q smoke "SELECT posted FROM order_credit.credit_status('r1')")"
check "verify()" "" "$(q smoke "SELECT * FROM order_credit.verify()")"
q postgres "CREATE DATABASE upgraded" || die "create database"
q upgraded "CREATE EXTENSION order_credit VERSION '1.0'" || die "CREATE EXTENSION VERSION 1.0"
q upgraded "ALTER EXTENSION order_credit UPDATE" || die "ALTER EXTENSION UPDATE"
check "1.0 upgraded to" "$EXTVERSION" "$(q upgraded "SELECT extversion FROM pg_extension WHERE extname = 'order_credit'")"

# make installcheck from the source tree against the package's server (no
# build: PGXS's installcheck only needs pg_config and the test files).
log "make installcheck against the installed package (PGHOST=$C PGPORT=$PORT)"
(cd "$SRC" && make -s installcheck) >"$T/installcheck.log" 2>&1
rc=$?
grep -E "tests (passed|failed)|FAILED" "$T/installcheck.log"
[ $rc -eq 0 ] || { head -n 100 "$SRC/regression.diffs" "$SRC/output_iso/regression.diffs" 2>/dev/null; }
check "make installcheck" 0 $rc

if [ $REMOVE -eq 1 ]; then
    scripts/cluster.sh stop "$C" && STOPPED=1
    dpkg -r postgresql-15-order-credit >/dev/null && log "package removed"
fi
[ $FAILED -eq 0 ] || die "see above"
log "passed: $(basename "$DEB") builds, installs, and passes installcheck"
