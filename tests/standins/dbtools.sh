#!/bin/sh
# mmdebstrap customize hook: the database client tools of the util job's images
# (postgres, mysql, mariadb, mongo and alpine), in an Alpine-like root: busybox
# runs the job's `sh -c` line. pg_dump is put on PATH as the official images
# have it. Debian has no mongodump, so a stand-in records the arguments it was
# called with, and the password it read from standard input (mongodump's way
# when --username comes without --password), in the archive it was asked to write.
set -eu
root=$1
"$(dirname "$0")/alpine.sh" "$root"
mkdir -p "$root/usr/local/bin"
for tool in pg_dump pg_dumpall pg_restore; do
    ln -sf "$(cd "$root" && ls -d usr/lib/postgresql/*/bin | sed 's|^|/|' | tail -n 1)/$tool" "$root/usr/local/bin/$tool"
done
cat > "$root/usr/local/bin/mongodump" <<'SCRIPT'
#!/bin/sh
# Stand-in for mongodump: writes its arguments, one a line, into --archive, and
# then the password line it reads from standard input when it has no --password.
archive=''
password=yes
for arg; do
    case $arg in --archive=*) archive=${arg#--archive=} ;; --password*) password='' ;; esac
done
[ -n "$archive" ] || { echo "mongodump (stand-in): needs --archive=FILE" >&2; exit 2; }
printf '%s\n' "$@" > "$archive"
if [ -n "$password" ]; then
    IFS= read -r line || true
    printf 'stdin: %s\n' "$line" >> "$archive"
fi
SCRIPT
chmod 755 "$root/usr/local/bin/mongodump"
