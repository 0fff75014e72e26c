#!/usr/bin/env bash
# Installs what order_credit needs to build and test on Debian 12 with the
# distribution's PostgreSQL 15. Does nothing when everything is present.
set -euo pipefail
pkgs=(postgresql-15 postgresql-server-dev-15 postgresql-15-pgtap libtap-parser-sourcehandler-pgtap-perl
      postgresql-15-wal2json postgresql-contrib libfmt-dev g++ clang-14 llvm-14 make cmake libgtest-dev
      clang-format-14 python3-psycopg2 prometheus prometheus-postgres-exporter curl
      postgresql-15-plproxy)
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js and npm for examples/node-orders (suite node): any install that
# provides the commands will do (NodeSource's nodejs carries npm).
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all packages present"
    exit 0
fi
echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
