#!/usr/bin/env bash
# Starts a throw-away Dovecot IMAP server for the end-to-end test of the
# IMAP source (ingest.TestIMAPAgainstDovecot), or stops it.
#
#   scripts/e2e-dovecot.sh DIR          # install if needed, configure, start
#   scripts/e2e-dovecot.sh start DIR    # the same
#   scripts/e2e-dovecot.sh stop DIR     # stop the server started in DIR
#
# Everything lives in DIR: a self-signed certificate for 127.0.0.1, a
# passwd-file with one user and a random password (DIR/imap-password),
# maildirs, Dovecot's runtime and state folders, its log and its config
# (DIR/dovecot.conf). The server listens for IMAPS on 127.0.0.1 only, on a
# free high port, with TLS required. DIR/env holds what the test reads:
#
#   CAREPAY_E2E_IMAP_ADDR=127.0.0.1:PORT
#   CAREPAY_E2E_IMAP_USER=ops@example.test
#   CAREPAY_E2E_IMAP_PASSWORD_FILE=DIR/imap-password
#   CAREPAY_E2E_IMAP_CA=DIR/cert.pem
#
# so:  set -a; . DIR/env; set +a; go test -run TestIMAPAgainstDovecot ./ingest
#
# dovecot-imapd is installed with apt-get when missing (this needs root).
# Written for Dovecot 2.3 (Debian 12).
set -euo pipefail

die() {
	echo "e2e-dovecot: $*" >&2
	exit 1
}

usage() {
	echo "usage: $0 [start] DIR | $0 stop DIR" >&2
	exit 2
}

cmd=start
case ${1-} in
start | stop)
	cmd=$1
	shift
	;;
esac
[[ $# -eq 1 && -n $1 ]] || usage
mkdir -p "$1"
D=$(cd "$1" && pwd)

pidfile=$D/run/master.pid

running() {
	[[ -s $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

stop() {
	if ! running; then
		echo "e2e-dovecot: not running in $D"
		return 0
	fi
	local pid
	pid=$(cat "$pidfile")
	kill "$pid"
	for _ in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || {
			echo "e2e-dovecot: stopped (pid $pid)"
			return 0
		}
		sleep 0.1
	done
	die "dovecot (pid $pid) did not stop; see $D/dovecot.log"
}

if [[ $cmd == stop ]]; then
	stop
	exit 0
fi

running && die "already running in $D (pid $(cat "$pidfile")); stop it first: $0 stop $D"

# 1. Dovecot.
if ! command -v dovecot >/dev/null || [[ ! -e /usr/lib/dovecot/imap ]]; then
	[[ $(id -u) -eq 0 ]] || die "dovecot-imapd is not installed and installing it needs root"
	echo "e2e-dovecot: installing dovecot-imapd"
	# The package would start the system's Dovecot on every interface:
	# forbid starting services while it installs, unless a policy does.
	if [[ ! -e /usr/sbin/policy-rc.d ]]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		trap 'rm -f /usr/sbin/policy-rc.d' EXIT
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends dovecot-imapd >/dev/null
	if [[ -n $(trap -p EXIT) ]]; then
		rm -f /usr/sbin/policy-rc.d
		trap - EXIT
	fi
fi
version=$(dovecot --version)
case $version in
2.3.*) ;;
*) echo "e2e-dovecot: warning: written for Dovecot 2.3, found $version" >&2 ;;
esac

# The mail user. Dovecot refuses mail access as root, so root runs the
# mail processes as nobody; anyone else runs everything as themselves.
if [[ $(id -u) -eq 0 ]]; then
	mail_user=nobody
	mail_group=$(id -gn nobody)
	internal_user=dovecot
	internal_group=dovecot
	login_user=dovenull
	getent passwd dovecot >/dev/null && getent passwd dovenull >/dev/null ||
		die "the dovecot and dovenull users are missing (they come with dovecot-core)"
else
	mail_user=$(id -un)
	mail_group=$(id -gn)
	internal_user=$mail_user
	internal_group=$mail_group
	login_user=$mail_user
fi
mail_uid=$(id -u "$mail_user")
# Only root can chroot the login and anvil processes.
chroot_off=
login_chroot=
if [[ $(id -u) -ne 0 ]]; then
	chroot_off=$'service anvil {\n  chroot =\n}'
	login_chroot='chroot ='
fi
mail_gid=$(getent group "$mail_group" | cut -d: -f3)

# 2. Certificate, user, password, maildir.
mkdir -p "$D/run" "$D/state" "$D/mail" "$D/home"
chmod 755 "$D" "$D/run" "$D/state"
if [[ ! -s $D/cert.pem || ! -s $D/key.pem ]]; then
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
		-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
		-keyout "$D/key.pem" -out "$D/cert.pem" 2>/dev/null
fi
chmod 600 "$D/key.pem"
chmod 644 "$D/cert.pem"

user=ops@example.test
if [[ ! -s $D/imap-password ]]; then
	(umask 077 && openssl rand -hex 24 >"$D/imap-password")
fi
chmod 600 "$D/imap-password"
hash=$(doveadm pw -s SHA512-CRYPT -p "$(cat "$D/imap-password")")
# The auth process runs as the internal user: it must read the file.
printf '%s:%s::::::\n' "$user" "$hash" >"$D/users"
chmod 644 "$D/users"
chown -R "$mail_uid:$mail_gid" "$D/mail" "$D/home"

# A free high port.
port=
for _ in $(seq 1 50); do
	p=$((20000 + RANDOM % 40000))
	if ! ss -Hltn "sport = :$p" | grep -q .; then
		port=$p
		break
	fi
done
[[ -n $port ]] || die "no free port found"

# 3. A standalone config: nothing from /etc/dovecot.
cat >"$D/dovecot.conf" <<EOF
# Written by scripts/e2e-dovecot.sh for Dovecot $version: a throw-away server.
base_dir = $D/run
state_dir = $D/state
instance_name = carepay-e2e-$port
protocols = imap
listen = 127.0.0.1
log_path = $D/dovecot.log
info_log_path = $D/dovecot.log

default_internal_user = $internal_user
default_internal_group = $internal_group
default_login_user = $login_user

ssl = required
ssl_cert = <$D/cert.pem
ssl_key = <$D/key.pem
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = yes
auth_mechanisms = plain login

passdb {
  driver = passwd-file
  args = scheme=SHA512-CRYPT username_format=%u $D/users
}
userdb {
  driver = static
  args = uid=$mail_uid gid=$mail_gid home=$D/home/%u
}
mail_uid = $mail_uid
mail_gid = $mail_gid
first_valid_uid = $mail_uid
first_valid_gid = $mail_gid
mail_location = maildir:$D/mail/%u

namespace inbox {
  inbox = yes
  separator = /
  mailbox Processed {
    auto = subscribe
  }
  mailbox Rejected {
    auto = subscribe
  }
  mailbox Manual {
    auto = subscribe
  }
}

$chroot_off
service imap-login {
  $login_chroot
  inet_listener imap {
    port = 0
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $port
    ssl = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    port = 0
  }
  inet_listener pop3s {
    port = 0
  }
}
EOF

doveconf -c "$D/dovecot.conf" -n >"$D/doveconf.txt" 2>&1 || {
	cat "$D/doveconf.txt" >&2
	die "doveconf rejects $D/dovecot.conf"
}

# 4. Start and wait for the port.
: >"$D/dovecot.log"
# Dovecot's master keeps the descriptors it starts with: none of ours,
# or a caller reading this script's output through a pipe would wait for
# ever.
dovecot -c "$D/dovecot.conf" </dev/null >>"$D/dovecot.log" 2>&1 || {
	cat "$D/dovecot.log" >&2
	die "dovecot did not start"
}
for _ in $(seq 1 100); do
	if ss -Hltn "sport = :$port" | grep -q .; then
		break
	fi
	sleep 0.1
done
if ! ss -Hltn "sport = :$port" | grep -q .; then
	cat "$D/dovecot.log" >&2
	stop || true
	die "dovecot is not listening on 127.0.0.1:$port"
fi

# 5. What the test reads.
cat >"$D/env" <<EOF
CAREPAY_E2E_IMAP_ADDR=127.0.0.1:$port
CAREPAY_E2E_IMAP_USER=$user
CAREPAY_E2E_IMAP_PASSWORD_FILE=$D/imap-password
CAREPAY_E2E_IMAP_CA=$D/cert.pem
EOF
echo "e2e-dovecot: Dovecot $version listening on 127.0.0.1:$port (pid $(cat "$pidfile")); env in $D/env"
