#!/bin/sh
# Stand-in for the official redis image's docker-entrypoint.sh, run as a
# non-root uid: options or a .conf file alone mean redis-server with them, and
# umask 0022 becomes 0077. The official image also builds redis-server with
# protected mode off by default (its Dockerfile patches config.c), which
# Debian's is not: the stand-in passes --protected-mode no first, where the
# stack's own options (which come after) can still set it.
set -eu
if [ "${1#-}" != "${1:-}" ] || [ "${1%.conf}" != "${1:-}" ]; then
    set -- redis-server "$@"
fi
if [ "${1:-}" = redis-server ]; then
    shift
    case ${1:-} in
        *.conf) config=$1; shift; set -- redis-server "$config" --protected-mode no "$@" ;;
        *) set -- redis-server --protected-mode no "$@" ;;
    esac
fi
if [ "$(umask)" = 0022 ]; then
    umask 0077
fi
exec "$@"
