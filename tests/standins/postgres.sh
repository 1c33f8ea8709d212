#!/bin/sh
# mmdebstrap customize hook: turns the Debian root $1 with postgresql into a
# stand-in for postgres:*-alpine, in an Alpine-like root (alpine.sh): the
# postgres account (70), the server and client binaries on PATH as the official
# image has them, its PGDATA and socket directories (modes 1777 and 3777, so
# that any uid may use them), listen_addresses = '*' in the sample configuration
# that initdb copies, and its entrypoint (postgres-entrypoint.sh, file-env.sh).
# Debian's package makes a cluster of its own, which the image has not: it goes.
# LLVM serves only PostgreSQL's JIT, which the server turns off when its
# provider is missing: it goes too (a third of the image).
set -eu
root=$1
here=$(dirname "$0")
"$here/alpine.sh" "$root"
echo 'postgres:x:70:70:PostgreSQL:/var/lib/postgresql:/bin/sh' >> "$root/etc/passwd"
echo 'postgres:!::0:::::' >> "$root/etc/shadow"
echo 'postgres:x:70:' >> "$root/etc/group"
echo 'postgres:!::' >> "$root/etc/gshadow"
rm -rf "$root"/etc/postgresql/* "$root"/var/lib/postgresql "$root"/run/postgresql
rm -rf "$root"/usr/lib/*/libLLVM* "$root"/usr/lib/postgresql/*/lib/llvmjit* "$root"/usr/lib/postgresql/*/lib/bitcode
bin=$(cd "$root" && ls -d usr/lib/postgresql/*/bin | tail -n 1)
mkdir -p "$root/usr/local/bin"
for tool in "$root/$bin"/*; do
    ln -sf "/$bin/${tool##*/}" "$root/usr/local/bin/${tool##*/}"
done
sed -ri "s!^#?(listen_addresses)\s*=\s*\S+.*!\1 = '*'!" "$root"/usr/share/postgresql/*/postgresql.conf.sample
install -d -o 70 -g 70 -m 755 "$root/var/lib/postgresql"
install -d -o 70 -g 70 -m 1777 "$root/var/lib/postgresql/data"
install -d -o 70 -g 70 -m 3777 "$root/run/postgresql"
install -d "$root/docker-entrypoint-initdb.d"
install -D -m 644 "$here/file-env.sh" "$root/usr/local/lib/file-env.sh"
install -m 755 "$here/postgres-entrypoint.sh" "$root/usr/local/bin/docker-entrypoint.sh"
