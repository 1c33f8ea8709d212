#!/bin/sh
# Stand-in for the official postgres image's docker-entrypoint.sh, for what a
# stack uses, run as any non-root uid: POSTGRES_USER (default postgres),
# POSTGRES_PASSWORD or POSTGRES_PASSWORD_FILE (required), POSTGRES_DB (default
# the user), POSTGRES_INITDB_ARGS and PGDATA. On an empty PGDATA: initdb with
# that superuser and password (nss_wrapper names a uid that /etc/passwd lacks,
# as initdb insists on a name), every other host allowed with scram-sha-256,
# a server on the socket only to create the database, then the server itself.
# Scripts in /docker-entrypoint-initdb.d are not run (the stack has none).
set -eu

. /usr/local/lib/file-env.sh

if [ "${1#-}" != "${1:-}" ]; then
    set -- postgres "$@"
fi
if [ "${1:-}" = postgres ]; then
    [ "$(id -u)" != 0 ] || { echo "this stand-in runs postgres as the pod's non-root user only" >&2; exit 1; }
    file_env POSTGRES_PASSWORD
    file_env POSTGRES_USER postgres
    file_env POSTGRES_DB "$POSTGRES_USER"
    file_env POSTGRES_INITDB_ARGS
    mkdir -p "$PGDATA"
    chmod 700 "$PGDATA" || :
    if [ ! -s "$PGDATA/PG_VERSION" ]; then
        if [ -z "$POSTGRES_PASSWORD" ]; then
            echo "error: database is uninitialized and superuser password is not specified." >&2
            exit 1
        fi
        if ! getent passwd "$(id -u)" > /dev/null; then
            for wrapper in /usr/lib/*/libnss_wrapper.so; do
                NSS_WRAPPER_PASSWD=$(mktemp) NSS_WRAPPER_GROUP=$(mktemp)
                export LD_PRELOAD="$wrapper" NSS_WRAPPER_PASSWD NSS_WRAPPER_GROUP
                printf 'postgres:x:%s:%s:PostgreSQL:%s:/bin/false\n' "$(id -u)" "$(id -g)" "$PGDATA" > "$NSS_WRAPPER_PASSWD"
                printf 'postgres:x:%s:\n' "$(id -g)" > "$NSS_WRAPPER_GROUP"
            done
        fi
        # word splitting of POSTGRES_INITDB_ARGS is intended, as the official image's eval
        # shellcheck disable=SC2086
        printf '%s\n' "$POSTGRES_PASSWORD" | initdb --username="$POSTGRES_USER" --pwfile=/dev/stdin $POSTGRES_INITDB_ARGS
        if [ -n "${LD_PRELOAD:-}" ]; then
            rm -f "$NSS_WRAPPER_PASSWD" "$NSS_WRAPPER_GROUP"
            unset LD_PRELOAD NSS_WRAPPER_PASSWD NSS_WRAPPER_GROUP
        fi
        printf '\nhost all all all scram-sha-256\n' >> "$PGDATA/pg_hba.conf"
        pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p 5432" -w start
        if [ "$POSTGRES_DB" != postgres ]; then
            # psql quotes the name as :"db" says on standard input only (not with --command)
            printf '%s\n' 'CREATE DATABASE :"db";' | PGPASSWORD=$POSTGRES_PASSWORD psql -v ON_ERROR_STOP=1 \
                --no-psqlrc --username "$POSTGRES_USER" --dbname postgres --set db="$POSTGRES_DB"
        fi
        pg_ctl -D "$PGDATA" -m fast -w stop
        echo "PostgreSQL init process complete; ready for start up."
    else
        echo "PostgreSQL Database directory appears to contain a database; Skipping initialization"
    fi
fi
exec "$@"
