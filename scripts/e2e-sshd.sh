#!/usr/bin/env bash
# Starts a throw-away OpenSSH server (SFTP only) on 127.0.0.1 for the
# end-to-end tests, or stops it.
#
#   scripts/e2e-sshd.sh DIR         start; writes DIR/env
#   scripts/e2e-sshd.sh start DIR   the same
#   scripts/e2e-sshd.sh stop DIR    kill the server started in DIR
#
# DIR receives a fresh host key and user key (ed25519, no passphrase), the
# sshd_config, authorized_keys, known_hosts, sshd.pid, sshd.log and env:
#
#   CAREPAY_E2E_SSH_ADDR=127.0.0.1:PORT
#   CAREPAY_E2E_SSH_USER=<the current user>
#   CAREPAY_E2E_SSH_KEY=DIR/id_ed25519
#   CAREPAY_E2E_SSH_KNOWN_HOSTS=DIR/known_hosts
#   CAREPAY_E2E_SSH_PID=<sshd's pid>
#
# (`set -a; . DIR/env; set +a` exports them). The server lets only the
# current user in, only with that key, only for SFTP. When /usr/sbin/sshd is
# missing, openssh-server is installed with apt-get (which needs root).
set -euo pipefail

die() {
	echo "e2e-sshd: $*" >&2
	exit 1
}

usage() {
	echo "usage: $0 [start] DIR | stop DIR" >&2
	exit 2
}

cmd=start
case ${1:-} in
start | stop)
	cmd=$1
	shift
	;;
esac
[[ $# -eq 1 && -n $1 ]] || usage
dir=$1

# port_open PORT: something accepts connections on 127.0.0.1:PORT.
port_open() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# pid_alive PID: the process exists.
pid_alive() {
	[[ -n $1 ]] && kill -0 "$1" 2>/dev/null
}

stop() {
	local pidfile=$dir/sshd.pid pid
	if [[ ! -f $pidfile ]]; then
		echo "e2e-sshd: no $pidfile: nothing to stop"
		return 0
	fi
	pid=$(<"$pidfile")
	[[ $pid =~ ^[0-9]+$ ]] || die "$pidfile does not hold a pid: $pid"
	if pid_alive "$pid"; then
		kill "$pid"
		for _ in $(seq 50); do
			pid_alive "$pid" || break
			sleep 0.1
		done
		if pid_alive "$pid"; then
			kill -KILL "$pid" 2>/dev/null || true
		fi
		echo "e2e-sshd: stopped sshd (pid $pid)"
	else
		echo "e2e-sshd: sshd (pid $pid) was not running"
	fi
	rm -f "$pidfile"
}

install_sshd() {
	[[ -x /usr/sbin/sshd ]] && return 0
	command -v apt-get >/dev/null || die "/usr/sbin/sshd is missing and there is no apt-get to install openssh-server"
	local sudo=()
	if [[ $(id -u) -ne 0 ]]; then
		command -v sudo >/dev/null || die "/usr/sbin/sshd is missing; installing openssh-server needs root (or sudo)"
		sudo=(sudo)
	fi
	echo "e2e-sshd: /usr/sbin/sshd is missing: installing openssh-server with apt-get"
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 ||
		die "apt-get update failed: cannot install openssh-server"
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends openssh-server >&2 ||
		die "apt-get install openssh-server failed"
	[[ -x /usr/sbin/sshd ]] || die "openssh-server is installed but /usr/sbin/sshd is still missing"
}

free_port() {
	local port
	if command -v python3 >/dev/null &&
		port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()' 2>/dev/null) &&
		[[ $port =~ ^[0-9]+$ ]]; then
		echo "$port"
		return 0
	fi
	for _ in $(seq 100); do
		port=$((20000 + RANDOM % 40000))
		if ! port_open "$port"; then
			echo "$port"
			return 0
		fi
	done
	die "found no free port on 127.0.0.1"
}

start() {
	case $dir in
	*[[:space:]]*) die "the folder name must not hold spaces: $dir" ;;
	esac
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd -P)
	if [[ -f $dir/sshd.pid ]] && pid_alive "$(<"$dir/sshd.pid")"; then
		die "an sshd started in $dir is running already (pid $(<"$dir/sshd.pid")): run '$0 stop $dir' first"
	fi

	install_sshd
	command -v ssh-keygen >/dev/null || die "ssh-keygen is missing (package openssh-client)"

	# sshd wants its privilege separation folder even for a private server.
	if [[ ! -d /run/sshd ]]; then
		if [[ $(id -u) -eq 0 ]]; then
			mkdir -p /run/sshd
			chmod 0755 /run/sshd
		else
			die "/run/sshd is missing and only root can create it"
		fi
	fi

	local user
	user=$(id -un)
	rm -f "$dir"/ssh_host_ed25519_key* "$dir"/id_ed25519* "$dir"/env "$dir"/sshd.log
	ssh-keygen -q -t ed25519 -N '' -C "carepay-e2e-host" -f "$dir/ssh_host_ed25519_key"
	ssh-keygen -q -t ed25519 -N '' -C "carepay-e2e-user" -f "$dir/id_ed25519"
	cp "$dir/id_ed25519.pub" "$dir/authorized_keys"
	chmod 600 "$dir/authorized_keys"

	local port
	port=$(free_port)
	local root_login=no
	[[ $user == root ]] && root_login=prohibit-password
	cat >"$dir/sshd_config" <<EOF
# Throw-away sshd for carepay's end-to-end tests (scripts/e2e-sshd.sh).
ListenAddress 127.0.0.1:$port
HostKey $dir/ssh_host_ed25519_key
PidFile $dir/sshd.pid
AuthorizedKeysFile $dir/authorized_keys
StrictModes no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin $root_login
AllowUsers $user
UsePAM no
AllowTcpForwarding no
AllowAgentForwarding no
X11Forwarding no
PermitTTY no
PrintMotd no
Subsystem sftp internal-sftp
ForceCommand internal-sftp
LogLevel VERBOSE
EOF
	/usr/sbin/sshd -t -f "$dir/sshd_config" || die "sshd rejects $dir/sshd_config"
	/usr/sbin/sshd -f "$dir/sshd_config" -E "$dir/sshd.log" || die "sshd did not start; see $dir/sshd.log"

	local pid=""
	for _ in $(seq 100); do
		[[ -s $dir/sshd.pid ]] && pid=$(<"$dir/sshd.pid")
		if [[ -n $pid ]] && port_open "$port"; then
			break
		fi
		sleep 0.1
	done
	if [[ -z $pid ]] || ! pid_alive "$pid" || ! port_open "$port"; then
		cat "$dir/sshd.log" >&2 || true
		die "sshd is not accepting connections on 127.0.0.1:$port"
	fi

	# known_hosts from the host's public key: "[127.0.0.1]:PORT ssh-ed25519 ...".
	local keytype keydata
	read -r keytype keydata _ <"$dir/ssh_host_ed25519_key.pub"
	echo "[127.0.0.1]:$port $keytype $keydata" >"$dir/known_hosts"

	cat >"$dir/env" <<EOF
CAREPAY_E2E_SSH_ADDR=127.0.0.1:$port
CAREPAY_E2E_SSH_USER=$user
CAREPAY_E2E_SSH_KEY=$dir/id_ed25519
CAREPAY_E2E_SSH_KNOWN_HOSTS=$dir/known_hosts
CAREPAY_E2E_SSH_PID=$pid
EOF
	echo "e2e-sshd: sshd (pid $pid) on 127.0.0.1:$port for $user; settings in $dir/env"
}

case $cmd in
start) start ;;
stop) stop ;;
esac
