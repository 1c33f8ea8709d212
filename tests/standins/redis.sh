#!/bin/sh
# mmdebstrap customize hook: turns the Debian root $1 with redis-server into a
# stand-in for redis:*-alpine, in an Alpine-like root (alpine.sh): the redis
# account (999, group 1000), /data where the server writes its snapshot, and
# the entrypoint (redis-entrypoint.sh).
set -eu
root=$1
here=$(dirname "$0")
"$here/alpine.sh" "$root"
echo 'redis:x:999:1000:Linux User,,,:/home/redis:/sbin/nologin' >> "$root/etc/passwd"
echo 'redis:!::0:::::' >> "$root/etc/shadow"
echo 'redis:x:1000:redis' >> "$root/etc/group"
echo 'redis:!::redis' >> "$root/etc/gshadow"
install -d -o 999 -g 1000 -m 755 "$root/data"
mkdir -p "$root/usr/local/bin"
install -m 755 "$here/redis-entrypoint.sh" "$root/usr/local/bin/docker-entrypoint.sh"
