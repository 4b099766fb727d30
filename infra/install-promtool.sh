#!/bin/sh
# Puts promtool in DIR (default .venv/bin) unless one is already on PATH or there.
#
# promtool comes from Debian's `prometheus` package. Only the promtool binary is taken out
# of the .deb: installing the package itself would also start a Prometheus server.
set -eu
dir="${1:-.venv/bin}"
if command -v promtool >/dev/null 2>&1 || [ -x "$dir/promtool" ]; then
    exit 0
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
if ! apt-get download prometheus >/dev/null 2>&1; then
    apt-get update -qq
    apt-get download prometheus
fi
dpkg-deb --fsys-tarfile prometheus_*.deb | tar -x ./usr/bin/promtool
cd - >/dev/null
mkdir -p "$dir"
install -m 0755 "$work/usr/bin/promtool" "$dir/promtool"
"$dir/promtool" --version | head -n 1
