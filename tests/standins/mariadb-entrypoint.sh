#!/bin/sh
# Stand-in for the official mariadb image's docker-entrypoint.sh, for what a stack
# uses, run as any non-root uid: MARIADB_ROOT_PASSWORD (or _FILE, required),
# MARIADB_DATABASE, MARIADB_USER and MARIADB_PASSWORD (or _FILE). On a datadir
# without a mysql database: mariadb-install-db, a server on the socket only, and
# there root's password (root@localhost and root@'%'), the database, and the user
# with every privilege on it; then the server itself. /docker-entrypoint-initdb.d
# is not read (the stack has none), nor the MYSQL_* names the image also takes.
set -eu

. /usr/local/lib/file-env.sh

# A string as an SQL literal's content (backslashes and quotes escaped), as an identifier's (backticks doubled).
literal() { printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e "s/'/\\\\'/g"; }
identifier() { printf '%s' "$1" | sed 's/`/``/g'; }

if [ "${1#-}" != "${1:-}" ]; then
    set -- mariadbd "$@"
fi
if [ "${1:-}" = mariadbd ] || [ "${1:-}" = mysqld ]; then
    [ "$(id -u)" != 0 ] || { echo "this stand-in runs mariadbd as the pod's non-root user only" >&2; exit 1; }
    file_env MARIADB_ROOT_PASSWORD
    file_env MARIADB_DATABASE
    file_env MARIADB_USER
    file_env MARIADB_PASSWORD
    datadir=/var/lib/mysql
    socket=/run/mysqld/mysqld.sock
    if [ ! -d "$datadir/mysql" ]; then
        if [ -z "$MARIADB_ROOT_PASSWORD" ]; then
            echo "error: database is uninitialized and password option is not specified" >&2
            exit 1
        fi
        mariadb-install-db --datadir="$datadir" --rpm --auth-root-authentication-method=normal \
            --skip-test-db --default-time-zone=SYSTEM --skip-log-bin --expire-logs-days=0
        "$@" --skip-networking --socket="$socket" --default-time-zone=SYSTEM --skip-log-bin &
        server=$!
        tries=30
        until mariadb --protocol=socket --socket="$socket" --user=root -e 'SELECT 1' > /dev/null 2>&1; do
            tries=$((tries - 1))
            [ "$tries" -gt 0 ] || { echo "error: the server did not start" >&2; exit 1; }
            sleep 1
        done
        root_password=$(literal "$MARIADB_ROOT_PASSWORD")
        {
            echo "SET @@SESSION.SQL_LOG_BIN=0;"
            echo "DROP USER IF EXISTS root@'127.0.0.1', root@'::1';"
            echo "SET PASSWORD FOR 'root'@'localhost' = PASSWORD('$root_password');"
            echo "CREATE USER 'root'@'%' IDENTIFIED BY '$root_password';"
            echo "GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION;"
            echo "GRANT PROXY ON ''@'%' TO 'root'@'%' WITH GRANT OPTION;"
            if [ -n "$MARIADB_DATABASE" ]; then
                echo "CREATE DATABASE IF NOT EXISTS \`$(identifier "$MARIADB_DATABASE")\`;"
            fi
            if [ -n "$MARIADB_USER" ] && [ -n "$MARIADB_PASSWORD" ]; then
                echo "CREATE USER '$(literal "$MARIADB_USER")'@'%' IDENTIFIED BY '$(literal "$MARIADB_PASSWORD")';"
                if [ -n "$MARIADB_DATABASE" ]; then
                    echo "GRANT ALL ON \`$(identifier "$MARIADB_DATABASE")\`.* TO '$(literal "$MARIADB_USER")'@'%';"
                fi
            fi
        } | mariadb --protocol=socket --socket="$socket" --user=root --binary-mode
        MYSQL_PWD=$MARIADB_ROOT_PASSWORD mariadb-admin --protocol=socket --socket="$socket" --user=root shutdown
        wait "$server"
        echo "MariaDB init process done. Ready for start up."
    fi
fi
exec "$@"
