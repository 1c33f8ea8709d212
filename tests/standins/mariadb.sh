#!/bin/sh
# mmdebstrap customize hook: turns the Debian root $1 with mariadb-server-core and
# mariadb-client into a stand-in for mariadb:* (Ubuntu-based, so Debian's own
# tools stay): the mysql account (999), /var/lib/mysql, /run/mysqld for the
# socket (mode 1777, so that any uid may use it), the official image's
# configuration (no name resolution, every address) and its entrypoint
# (mariadb-entrypoint.sh, file-env.sh).
set -eu
root=$1
here=$(dirname "$0")
echo 'mysql:x:999:999::/var/lib/mysql:/bin/bash' >> "$root/etc/passwd"
echo 'mysql:!:19000:0:99999:7:::' >> "$root/etc/shadow"
echo 'mysql:x:999:' >> "$root/etc/group"
echo 'mysql:!::' >> "$root/etc/gshadow"
install -d -o 999 -g 999 -m 755 "$root/var/lib/mysql"
install -d -o 999 -g 999 -m 1777 "$root/run/mysqld"
mkdir -p "$root/etc/mysql/conf.d"
printf '[mariadb]\nhost-cache-size=0\nskip-name-resolve\n' > "$root/etc/mysql/conf.d/docker.cnf"
install -D -m 644 "$here/file-env.sh" "$root/usr/local/lib/file-env.sh"
install -D -m 755 "$here/mariadb-entrypoint.sh" "$root/usr/local/bin/docker-entrypoint.sh"
