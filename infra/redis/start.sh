#!/bin/sh
# Renders the ACL file from its template with passwords taken from the environment, then
# runs redis-server in its place. Paths can be overridden (the tests run this very script).
set -eu

template="${REDIS_ACL_TEMPLATE:-/usr/local/etc/redis/users.acl}"
config="${REDIS_CONFIG:-/usr/local/etc/redis/redis.conf}"
rendered="${REDIS_ACL_FILE:-/run/redis/users.acl}"

umask 077
mkdir -p "$(dirname "$rendered")"
# awk reads the passwords from ENVIRON, so they never appear on a command line; comments
# are dropped because Redis's ACL file has none.
awk '
/^[[:space:]]*(#|$)/ { next }
{
    line = $0
    while (match(line, /\$\{[A-Z0-9_]+\}/)) {
        name = substr(line, RSTART + 2, RLENGTH - 3)
        if (!(name in ENVIRON) || ENVIRON[name] == "") {
            printf "start.sh: %s is not set\n", name > "/dev/stderr"
            exit 1
        }
        line = substr(line, 1, RSTART - 1) ENVIRON[name] substr(line, RSTART + RLENGTH)
    }
    print line
}' "$template" > "$rendered.tmp" || { rm -f "$rendered.tmp"; exit 1; }
mv "$rendered.tmp" "$rendered"

exec redis-server "$config" --aclfile "$rendered" "$@"
