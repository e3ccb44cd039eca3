#!/usr/bin/env bash
# Starts a throw-away PostgreSQL server on 127.0.0.1 for the tests that need
# a real database, or stops it.
#
#   scripts/e2e-postgres.sh DIR         start; writes DIR/env
#   scripts/e2e-postgres.sh start DIR   the same
#   scripts/e2e-postgres.sh stop DIR    stop the server started in DIR
#
# Everything lives in DIR: the cluster (DIR/data, initdb'd with UTF8 and the
# C locale, so text compares in byte order), the Unix socket folder
# (DIR/run), the server log (DIR/postgres.log), and the random hex password
# of the role carepay (DIR/postgres-password). The server listens on
# 127.0.0.1 only, on a free high port; TCP logins need a password
# (scram-sha-256), and only carepay has one. The superuser logs in only
# through the socket in DIR/run, as the operating system user running the
# server (peer). Durability settings are PostgreSQL's defaults (fsync on).
#
# carepay owns the database carepay_test and may create schemas in it and
# create databases. DIR/env holds what the tests read:
#
#   CAREPAY_TEST_POSTGRES=postgres://carepay:PASSWORD@127.0.0.1:PORT/carepay_test?sslmode=disable
#
# (`set -a; . DIR/env; set +a` exports it). PostgreSQL refuses to run as
# root: run as root, the script runs the server as the system user postgres
# (created with useradd when missing), which must be able to reach DIR; run
# as anyone else, it runs the server as that user. The server binaries are
# taken from PATH (initdb, pg_ctl, postgres), else from the newest
# /usr/lib/postgresql/*/bin; when neither has them, Debian's postgresql is
# installed with apt-get (which needs root, or sudo).
set -euo pipefail

die() {
	echo "e2e-postgres: $*" >&2
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
case $1 in
*[[:space:]]*) die "the folder name must not hold spaces: $1" ;;
esac
mkdir -p "$1"
D=$(cd "$1" && pwd -P)

data=$D/data
pidfile=$data/postmaster.pid

# The caller's PGHOST, PGUSER, PGPASSWORD... must not steer our clients.
while read -r v; do unset "$v"; done < <(compgen -e | grep '^PG' || true)

# pid_alive PID: the process exists and is not a zombie (a stopped server
# is one until init reaps it).
pid_alive() {
	[[ -n $1 ]] && kill -0 "$1" 2>/dev/null || return 1
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[[ ${stat%% *} != Z ]]
}

# server_pid: the postmaster's pid, from the first line of postmaster.pid
# (empty when there is none).
server_pid() {
	local pid=""
	[[ -s $pidfile ]] && read -r pid <"$pidfile"
	[[ $pid =~ ^[0-9]+$ ]] && echo "$pid"
	return 0
}

# port_open PORT: something accepts connections on 127.0.0.1:PORT.
port_open() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# The operating system user that runs the server: postgres for root,
# else whoever runs this script.
if [[ $(id -u) -eq 0 ]]; then
	pg_user=postgres
else
	pg_user=$(id -un) || die "the current user (uid $(id -u)) has no name"
fi

# as_user CMD...: run CMD as pg_user, from DIR (root's working folder may be
# closed to pg_user, and PostgreSQL's programs complain about that).
as_user() {
	if [[ $(id -u) -eq 0 ]]; then
		(cd "$D" && runuser -u "$pg_user" -- "$@")
	else
		(cd "$D" && "$@")
	fi
}

# find_bindir: print the folder holding initdb, pg_ctl and postgres, from
# PATH or else the newest /usr/lib/postgresql/VERSION/bin; fail when none.
find_bindir() {
	local initdb pg_ctl postgres dir
	if initdb=$(command -v initdb) && pg_ctl=$(command -v pg_ctl) && postgres=$(command -v postgres); then
		# pg_ctl starts the postgres next to itself (symlinks resolved).
		dir=$(dirname "$(readlink -f "$pg_ctl")")
		if [[ -x $dir/postgres && -x $dir/initdb ]]; then
			echo "$dir"
			return 0
		fi
	fi
	while read -r dir; do
		if [[ -x $dir/initdb && -x $dir/pg_ctl && -x $dir/postgres ]]; then
			echo "$dir"
			return 0
		fi
	done < <(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r)
	return 1
}

install_postgres() {
	command -v apt-get >/dev/null || die "PostgreSQL's server programs are missing and there is no apt-get to install postgresql"
	local sudo=()
	if [[ $(id -u) -ne 0 ]]; then
		command -v sudo >/dev/null || die "PostgreSQL's server programs are missing; installing postgresql needs root (or sudo)"
		sudo=(sudo)
	fi
	echo "e2e-postgres: PostgreSQL's server programs are missing: installing postgresql with apt-get"
	# The package would create and start the system's cluster on port 5432:
	# forbid starting services while it installs, unless a policy does.
	local policy=0
	if [[ ! -e /usr/sbin/policy-rc.d ]]; then
		"${sudo[@]}" sh -c 'printf "#!/bin/sh\nexit 101\n" >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d'
		policy=1
	fi
	local ok=1
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 &&
		"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql >&2 ||
		ok=0
	if [[ $policy -eq 1 ]]; then
		"${sudo[@]}" rm -f /usr/sbin/policy-rc.d
	fi
	[[ $ok -eq 1 ]] || die "apt-get could not install postgresql"
}

# free_port: print a port nothing listens on at 127.0.0.1.
free_port() {
	local port
	for _ in $(seq 100); do
		port=$((20000 + RANDOM % 40000))
		if ! port_open "$port"; then
			echo "$port"
			return 0
		fi
	done
	die "found no free port on 127.0.0.1"
}

stop() {
	local pid
	pid=$(server_pid)
	if [[ -z $pid ]]; then
		echo "e2e-postgres: no server pid in $pidfile: nothing to stop"
		return 0
	fi
	if ! pid_alive "$pid"; then
		echo "e2e-postgres: postgres (pid $pid) was not running"
		return 0
	fi
	# pg_ctl must run as the cluster's owner.
	if [[ $(id -u) -eq 0 ]]; then
		pg_user=$(stat -c %U "$data")
	fi
	local pg_ctl
	pg_ctl=$(dirname "$(readlink -f "/proc/$pid/exe" 2>/dev/null || true)")/pg_ctl
	[[ -x $pg_ctl ]] || pg_ctl=$(find_bindir)/pg_ctl || pg_ctl=""
	local out=""
	if [[ -n $pg_ctl ]]; then
		out=$(as_user "$pg_ctl" stop -D "$data" -m fast -w -t 30 2>&1 </dev/null) || true
	fi
	if pid_alive "$pid"; then
		[[ -n $out ]] && echo "$out" >&2
		# Immediate shutdown: the postmaster still stops its children.
		echo "e2e-postgres: postgres (pid $pid) did not stop in time: SIGQUIT" >&2
		kill -QUIT "$pid" 2>/dev/null || true
		for _ in $(seq 50); do
			pid_alive "$pid" || break
			sleep 0.1
		done
	fi
	if pid_alive "$pid"; then
		echo "e2e-postgres: postgres (pid $pid) still running: SIGKILL" >&2
		local children
		children=$(pgrep -P "$pid" || true)
		kill -KILL "$pid" $children 2>/dev/null || true
		sleep 0.2
	fi
	pid_alive "$pid" && die "postgres (pid $pid) did not stop; see $D/postgres.log"
	echo "e2e-postgres: stopped postgres (pid $pid)"
}

if [[ $cmd == stop ]]; then
	stop
	exit 0
fi

pid=$(server_pid)
if pid_alive "$pid"; then
	die "a postgres started in $D is running already (pid $pid): run '$0 stop $D' first"
fi

# 1. The server programs, and the user to run them.
bindir=$(find_bindir) || {
	install_postgres
	bindir=$(find_bindir) || die "postgresql is installed but initdb, pg_ctl and postgres are still missing"
}
psql=$bindir/psql
[[ -x $psql ]] || psql=$(command -v psql) || die "psql is missing (package postgresql-client)"
pg_isready=$bindir/pg_isready
[[ -x $pg_isready ]] || pg_isready=$(command -v pg_isready) || die "pg_isready is missing (package postgresql-client)"
version=$("$bindir/postgres" --version)

if [[ $(id -u) -eq 0 ]]; then
	command -v runuser >/dev/null || die "runuser (util-linux) is missing: cannot run postgres as $pg_user"
	if ! getent passwd "$pg_user" >/dev/null; then
		echo "e2e-postgres: creating the system user $pg_user"
		useradd --system --user-group --no-create-home --home-dir /nonexistent \
			--shell /usr/sbin/nologin "$pg_user" || die "useradd $pg_user failed"
	fi
	runuser -u "$pg_user" -- test -x "$D" ||
		die "$pg_user cannot reach $D: every folder above it must be open to others (chmod o+x)"
fi

# 2. A fresh cluster: whatever an earlier run left in DIR goes.
rm -rf "$data" "$D/run"
rm -f "$D/env" "$D/postgres.log" "$D/postgres-password"
mkdir -m 700 "$data" "$D/run"
: >"$D/postgres.log"
if [[ $(id -u) -eq 0 ]]; then
	chown "$pg_user:" "$data" "$D/run" "$D/postgres.log"
fi
(umask 077 && od -An -tx1 -N16 /dev/urandom | tr -d ' \n' >"$D/postgres-password")
password=$(<"$D/postgres-password")
[[ $password =~ ^[0-9a-f]{32}$ ]] || die "could not make a random password"

# No password for the superuser: it logs in through the socket only (peer);
# the TCP rule is rewritten below.
as_user "$bindir/initdb" -D "$data" --username="$pg_user" \
	--encoding=UTF8 --locale=C --auth-local=peer --auth-host=reject \
	>"$D/initdb.log" 2>&1 </dev/null || {
	cat "$D/initdb.log" >&2
	die "initdb failed"
}

cat >"$data/pg_hba.conf" <<EOF
# Written by scripts/e2e-postgres.sh: a throw-away server for carepay's tests.
# TYPE  DATABASE  USER  ADDRESS       METHOD
local   all       all                 peer
host    all       all   127.0.0.1/32  scram-sha-256
EOF
# Our settings: postgresql.conf includes e2e.conf, written per port tried.
echo "include 'e2e.conf'" >>"$data/postgresql.conf"
if [[ $(id -u) -eq 0 ]]; then
	chown "$pg_user:" "$data/pg_hba.conf"
fi

# 3. Start on a free port; should another process take the port first, try
# another.
port=
for attempt in 1 2 3 4 5; do
	p=$(free_port)
	cat >"$data/e2e.conf" <<EOF
# Written by scripts/e2e-postgres.sh for $version.
listen_addresses = '127.0.0.1'
port = $p
unix_socket_directories = '$D/run'
password_encryption = scram-sha-256
EOF
	if [[ $(id -u) -eq 0 ]]; then
		chown "$pg_user:" "$data/e2e.conf"
	fi
	# pg_ctl gives the server /dev/null and the log, none of our
	# descriptors: a caller reading our output through a pipe won't hang.
	if as_user "$bindir/pg_ctl" start -D "$data" -l "$D/postgres.log" -w -t 30 >/dev/null </dev/null; then
		port=$p
		break
	fi
	if ! pid_alive "$(server_pid)" && grep -q 'could not bind\|could not create any TCP/IP sockets' "$D/postgres.log" && [[ $attempt -lt 5 ]]; then
		echo "e2e-postgres: port $p was taken: trying another" >&2
		continue
	fi
	cat "$D/postgres.log" >&2
	stop >&2 || true
	die "postgres did not start"
done
[[ -n $port ]] || die "postgres did not start"

# From here on, a failure stops the server again.
trap 'stop >&2 || true' ERR

# 4. Wait until it accepts TCP connections (30 s).
ready=0
for _ in $(seq 300); do
	if "$pg_isready" -q -h 127.0.0.1 -p "$port" -t 1; then
		ready=1
		break
	fi
	sleep 0.1
done
if [[ $ready -ne 1 ]]; then
	cat "$D/postgres.log" >&2
	stop >&2 || true
	die "postgres is not accepting connections on 127.0.0.1:$port"
fi

# 5. The role and the database: carepay owns carepay_test, so it may create
# schemas there, and it may create databases. The password (hex) goes
# through stdin, not the command line.
as_user "$psql" -X -q -v ON_ERROR_STOP=1 -h "$D/run" -p "$port" -U "$pg_user" -d postgres >/dev/null <<EOF ||
CREATE ROLE carepay LOGIN CREATEDB PASSWORD '$password';
CREATE DATABASE carepay_test OWNER carepay ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0;
EOF
	{
		cat "$D/postgres.log" >&2
		stop >&2 || true
		die "could not create the role carepay and the database carepay_test"
	}

# 6. What the tests read.
(umask 077 && cat >"$D/env" <<EOF
CAREPAY_TEST_POSTGRES=postgres://carepay:$password@127.0.0.1:$port/carepay_test?sslmode=disable
EOF
)
echo "e2e-postgres: $version (pid $(server_pid)) on 127.0.0.1:$port, run as $pg_user; settings in $D/env"
