#!/bin/sh
# Stand-in for busybox's addgroup and adduser applets as Alpine builds them
# (Debian's busybox has neither), installed under both names. Same options,
# checks, order of checks, messages and exit status as busybox 1.36/1.37
# (loginutils/addgroup.c, adduser.c; Alpine's CONFIG_LAST_ID=256000): above
# all, an id or a name that exists is refused ("gid '101' in use"). Lookups
# read the files the way musl does: the first matching line wins.
APPLET=${0##*/}
LAST_ID=256000
FIRST_SYSTEM_ID=100
LAST_SYSTEM_ID=999

die() { echo "$APPLET: $*" >&2; exit 1; }
usage() {
    case $APPLET in
        addgroup) echo "Usage: addgroup [-g GID] [-S] [USER] GROUP" >&2 ;;
        *) echo "Usage: adduser [OPTIONS] USER [GROUP]" >&2 ;;
    esac
    exit 1
}

# The first line of FILE whose field FIELD equals VALUE.
entry() { awk -F: -v f="$2" -v v="$3" '$f == v { print; exit }' "$1"; }
group_by_name() { entry /etc/group 1 "$1"; }
group_by_id() { entry /etc/group 3 "$1"; }
user_by_name() { entry /etc/passwd 1 "$1"; }
user_by_id() { entry /etc/passwd 3 "$1"; }

# busybox's xatou_range(value, 0, LAST_ID).
number() {
    case $1 in
        '' | *[!0-9]*) die "invalid number '$1'" ;;
    esac
    [ "${#1}" -le 10 ] && [ "$1" -le "$LAST_ID" ] || die "number $1 is not in 0..$LAST_ID range"
    echo $(( $1 ))
}

# busybox's die_if_bad_username: letters, digits and '_' anywhere; '-' and '.'
# after the first character; '$' as the last one.
check_name() {
    [ -n "$1" ] || die "illegal character with code 0 at position 0"
    position=$(printf '%s\n' "$1" | awk '{
        for (i = 1; i <= length($0); i++) {
            c = substr($0, i, 1)
            if (c ~ /[A-Za-z0-9_]/) continue
            if (i > 1 && (c == "-" || c == "." || (c == "$" && i == length($0)))) continue
            print i - 1; exit
        }
    }')
    if [ -n "$position" ]; then
        code=$(printf '%s' "$1" | od -An -tu1 -v | tr -s ' ' '\n' | grep . | sed -n "$(( position + 1 ))p")
        die "illegal character with code $code at position $position"
    fi
    [ "${#1}" -lt 256 ] || die "name is too long"
}

# update_passwd(FILE, GROUP, NULL, MEMBER): add MEMBER to the first GROUP line.
add_member() {
    [ -f "$1" ] || return 0
    awk -F: -v OFS=: -v g="$2" -v m="$3" -v field="$4" '
        !done && $1 == g { $field = ($field == "" ? m : $field "," m); done = 1 } { print }
    ' "$1" > "$1.new" && cat "$1.new" > "$1" && rm -f "$1.new"
}

addgroup_main() {
    [ "$(id -u)" = 0 ] || die "permission denied (are you root?)"
    parsed=$(getopt -q -o g:S -l gid:,system -n addgroup -- "$@") || usage
    eval set -- "$parsed"
    gid=0 gid_given='' system=''
    while :; do
        case $1 in
            -g | --gid) gid=$2 gid_given=1; shift 2 ;;
            -S | --system) system=1; shift ;;
            --) shift; break ;;
        esac
    done
    [ $# -ge 1 ] && [ $# -le 2 ] || usage
    if [ $# = 2 ]; then
        [ -z "$gid_given" ] || usage
        [ -n "$(user_by_name "$1")" ] || die "unknown user $1"
        line=$(group_by_name "$2")
        [ -n "$line" ] || die "unknown group $2"
        case ",${line##*:}," in *",$1,"*) exit 0 ;; esac
        add_member /etc/group "$2" "$1" 4
        add_member /etc/gshadow "$2" "$1" 4
        exit 0
    fi
    name=$1
    check_name "$name"
    gid=$(number "$gid") || exit 1
    [ -z "$(group_by_name "$name")" ] || die "group '$name' in use"
    max=$LAST_ID
    if [ -z "$gid_given" ]; then
        if [ -n "$system" ]; then gid=$FIRST_SYSTEM_ID max=$LAST_SYSTEM_ID; else gid=$(( LAST_SYSTEM_ID + 1 )); fi
    fi
    while [ -n "$(group_by_id "$gid")" ]; do
        [ -z "$gid_given" ] || die "gid '$gid' in use"
        [ "$gid" != "$max" ] || die "no gids left"
        gid=$(( gid + 1 ))
    done
    echo "$name:x:$gid:" >> /etc/group
    [ ! -f /etc/gshadow ] || echo "$name:!::" >> /etc/gshadow
}

adduser_main() {
    [ "$(id -u)" = 0 ] || die "permission denied (are you root?)"
    parsed=$(getopt -q -o h:g:s:G:DSHu:k: \
        -l home:,gecos:,shell:,ingroup:,disabled-password,empty-password,system,no-create-home,uid:,skel: \
        -n adduser -- "$@") || usage
    eval set -- "$parsed"
    home='' gecos='Linux User,,,' shell='' group='' no_password='' system='' no_home='' uid='' skel=/etc/skel
    options=''
    while :; do
        case $1 in
            --) shift; break ;;
        esac
        options=1
        case $1 in
            -h | --home) home=$2; shift 2 ;;
            -g | --gecos) gecos=$2; shift 2 ;;
            -s | --shell) shell=$2; shift 2 ;;
            -G | --ingroup) group=$2; shift 2 ;;
            -D | --disabled-password | --empty-password) no_password=1; shift ;;
            -S | --system) system=1 no_password=1; shift ;;
            -H | --no-create-home) no_home=1; shift ;;
            -u | --uid) uid=$2; shift 2 ;;
            -k | --skel) skel=$2; shift 2 ;;
        esac
    done
    [ $# -ge 1 ] && [ $# -le 2 ] || usage
    [ -z "$uid" ] || uid=$(number "$uid") || exit 1
    name=$1
    if [ -z "$options" ] && [ $# = 2 ]; then
        exec addgroup -- "$name" "$2"
    fi
    check_name "$name"
    home=${home:-/home/$name}
    shell_given=$shell
    if [ -z "$shell" ]; then
        shell=${SHELL:-$(user_by_id "$(id -u)" | cut -d: -f7)}
        shell=${shell:-/bin/sh}
    fi
    if [ -n "$system" ]; then
        group=${group:-nogroup}
        [ -n "$shell_given" ] || shell=/sbin/nologin  # Alpine's default for system accounts
    fi
    gid=-1
    if [ -n "$group" ]; then
        line=$(group_by_name "$group")
        [ -n "$line" ] || die "unknown group $group"
        gid=$(echo "$line" | cut -d: -f3)
    fi
    [ -z "$(user_by_name "$name")" ] || die "user '$name' in use"
    max=$LAST_ID
    if [ -z "$uid" ]; then
        uid_given=''
        if [ -n "$system" ]; then uid=$FIRST_SYSTEM_ID max=$LAST_SYSTEM_ID; else uid=$(( LAST_SYSTEM_ID + 1 )); fi
    else
        uid_given=1
    fi
    while [ -n "$(user_by_id "$uid")" ] || { [ "$gid" = -1 ] && [ -n "$(group_by_id "$uid")" ]; }; do
        [ -z "$uid_given" ] || die "uid '$uid' in use"
        [ "$uid" != "$max" ] || die "no uids left"
        uid=$(( uid + 1 ))
    done
    if [ "$gid" = -1 ]; then
        gid=$uid
        [ -z "$(group_by_name "$name")" ] || die "group '$name' in use"
    fi
    echo "$name:x:$uid:$gid:$gecos:$home:$shell" >> /etc/passwd
    [ ! -f /etc/shadow ] || echo "$name:!:$(( $(date +%s) / 86400 )):0:99999:7:::" >> /etc/shadow
    if [ -n "$group" ]; then addgroup -- "$name" "$group"; else addgroup --gid "$gid" -- "$name"; fi
    if [ -z "$no_home" ]; then
        if (umask 0 && mkdir "$home" 2>/dev/null); then
            [ ! -d "$skel" ] || cp -a "$skel/." "$home/" 2>/dev/null
            chown -R "$uid:$gid" "$home"
        fi
        { chown "$uid:$gid" "$home" && chmod 2755 "$home"; } 2>/dev/null || echo "$APPLET: $home: failed" >&2
    fi
    if [ -z "$no_password" ]; then
        command -v passwd >/dev/null || die "can't execute passwd, you must set password manually"
        exec passwd -- "$name"
    fi
}

case $APPLET in
    addgroup) addgroup_main "$@" ;;
    adduser) adduser_main "$@" ;;
    *) die "install me as addgroup or adduser" ;;
esac
