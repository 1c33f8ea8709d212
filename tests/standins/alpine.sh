#!/bin/sh
# mmdebstrap customize hook: turns the Debian root $1 into a stand-in for an
# Alpine image. Alpine's account files (the entries whose ids matter here:
# users 100, nogroup 65533, nobody 65534), busybox as the shell and (almost)
# every applet Debian's busybox has, busybox-style addgroup/adduser, and no shadow
# tools (Alpine has no groupadd/useradd). With "nginx": what nginx:*-alpine
# adds (user and group nginx 101, /var/cache/nginx, logs to stdout/stderr).
set -eu
root=$1
here=$(dirname "$0")
cp "$here/alpine-passwd" "$root/etc/passwd"
cp "$here/alpine-group" "$root/etc/group"
awk -F: '{ print $1 ":!::0:::::" }' "$root/etc/passwd" > "$root/etc/shadow"
awk -F: '{ print $1 ":!::" $4 }' "$root/etc/group" > "$root/etc/gshadow"
chmod 640 "$root/etc/shadow" "$root/etc/gshadow"
for tool in useradd groupadd usermod groupmod userdel groupdel adduser addgroup deluser delgroup newusers chpasswd; do
    rm -f "$root/usr/sbin/$tool"
done
# Debian builds busybox's find without -delete, which Alpine's has: GNU find stays.
for applet in $(chroot "$root" /usr/bin/busybox --list | grep -vx find); do
    for dir in usr/bin usr/sbin; do
        if [ -e "$root/$dir/$applet" ] || [ -L "$root/$dir/$applet" ]; then
            ln -sf /usr/bin/busybox "$root/$dir/$applet"
        fi
    done
done
install -m 755 "$here/busybox-accounts.sh" "$root/usr/sbin/addgroup"
install -m 755 "$here/busybox-accounts.sh" "$root/usr/sbin/adduser"
if [ "${2:-}" = nginx ]; then
    echo 'nginx:x:101:nginx' >> "$root/etc/group"
    echo 'nginx:!::nginx' >> "$root/etc/gshadow"
    echo 'nginx:x:101:101:nginx:/var/cache/nginx:/sbin/nologin' >> "$root/etc/passwd"
    echo 'nginx:!::0:::::' >> "$root/etc/shadow"
    mkdir -p "$root/var/cache/nginx" "$root/var/log/nginx" "$root/usr/share/nginx/html"
    chown 0:0 "$root/var/cache/nginx"
    chmod 755 "$root/var/cache/nginx"
    ln -sf /dev/stdout "$root/var/log/nginx/access.log"
    ln -sf /dev/stderr "$root/var/log/nginx/error.log"
fi
