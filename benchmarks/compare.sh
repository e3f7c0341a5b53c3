#!/usr/bin/env bash
# compare.sh: RustyPotato against Redis 7 with the same durability.
#
# Starts redis-server (appendonly yes) and RustyPotato with the same
# appendfsync policy (everysec, then always), each on its own free port and
# temporary directory, and runs redis-benchmark (-c 50 -r 100000 -n N) for
# SET, GET, INCR, MSET and PING at pipeline depths 1 and 16, alternating the
# two servers test by test. Then loads 1M keys of 32-byte values into each
# and reports their peak RSS (VmHWM), and runs the crash-recovery benchmark
# (benchmarks/crashbench) at 1M keys. The output is markdown, ready to paste
# into docs/benchmarks.md.
#
# Needs Go, and: apt-get install -y redis-server redis-tools
#
# Environment:
#   N=200000        requests per redis-benchmark run
#   QUICK=1         smoke run: N=20000, 100k keys instead of 1M, 3 crash cycles
#   ROUNDS=1        runs per server and test (alternating); the median is shown
#   MODES="everysec always"   appendfsync policies to compare
#   BIG=1000000     keys loaded for the memory and restart measurements
#   CRASH_CYCLES=5  SIGKILL/restart cycles per server at BIG keys (0: skip)
#   RP_BIN=path     use this rustypotato binary instead of building one
#   CRASHBENCH_BIN=path  use this crashbench binary instead of building one
#   DATA_DIR=path   parent of the temporary data directories (default: $TMPDIR or /tmp);
#                   it should be on a real disk, not tmpfs, for fsync to mean anything
#
# Usage: benchmarks/compare.sh            (from anywhere in the checkout)
#        QUICK=1 benchmarks/compare.sh

set -euo pipefail

envline=""
for v in N QUICK ROUNDS MODES BIG CRASH_CYCLES RP_BIN CRASHBENCH_BIN DATA_DIR; do
	if [[ -n "${!v:-}" ]]; then envline+="$v=$(printf '%q' "${!v}") "; fi
done

QUICK=${QUICK:-0}
if [[ "$QUICK" == 1 ]]; then
	N=${N:-20000}
	BIG=${BIG:-100000}
	CRASH_CYCLES=${CRASH_CYCLES:-3}
else
	N=${N:-200000}
	BIG=${BIG:-1000000}
	CRASH_CYCLES=${CRASH_CYCLES:-5}
fi
ROUNDS=${ROUNDS:-1}
MODES=${MODES:-"everysec always"}
CLIENTS=50
KEYSPACE=100000
PIPELINES="1 16"
TESTS="set get incr mset ping"

die() { echo "compare.sh: $*" >&2; exit 1; }
log() { echo "compare.sh: $*" >&2; }

for t in redis-server redis-cli redis-benchmark awk setsid; do
	command -v "$t" >/dev/null || die "$t not found (apt-get install -y redis-server redis-tools)"
done
if [[ -z "${RP_BIN:-}" || -z "${CRASHBENCH_BIN:-}" ]]; then
	command -v go >/dev/null || die "go not found (or set RP_BIN and CRASHBENCH_BIN)"
fi

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tmp=$(mktemp -d "${DATA_DIR:-${TMPDIR:-/tmp}}/rp-compare.XXXXXX")
pgids=()

cleanup() {
	local p
	for p in "${pgids[@]}"; do
		kill -KILL -- "-$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- build -------------------------------------------------------------------

if [[ -z "${RP_BIN:-}" ]]; then
	log "building rustypotato ..."
	(cd "$root" && go build -o "$tmp/rustypotato" ./cmd/rustypotato) || die "go build ./cmd/rustypotato failed"
	RP_BIN=$tmp/rustypotato
fi
if [[ -z "${CRASHBENCH_BIN:-}" && "$CRASH_CYCLES" -gt 0 ]]; then
	log "building crashbench ..."
	(cd "$root" && go build -o "$tmp/crashbench" ./benchmarks/crashbench) || die "go build ./benchmarks/crashbench failed"
	CRASHBENCH_BIN=$tmp/crashbench
fi

# --- servers -----------------------------------------------------------------

# free_port prints a TCP port on 127.0.0.1 nobody listens on.
free_port() {
	local p i
	for i in $(seq 200); do
		p=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return
		fi
	done
	die "no free port found"
}

# wait_ready PORT PID: waits until the server answers PING with PONG.
wait_ready() {
	local port=$1 pid=$2 i
	for i in $(seq 6000); do
		if [[ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" == PONG ]]; then
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.01
	done
	return 1
}

# start_rp MODE: starts RustyPotato on a fresh directory; sets RP_PORT and RP_PID.
start_rp() {
	local mode=$1 dir
	dir=$(mktemp -d "$tmp/rp.XXXXXX")
	RP_PORT=$(free_port)
	setsid "$RP_BIN" serve --bind 127.0.0.1 --port "$RP_PORT" --dir "$dir/data" --appendfsync "$mode" \
		>"$dir/log" 2>&1 &
	RP_PID=$!
	pgids+=("$RP_PID")
	wait_ready "$RP_PORT" "$RP_PID" || { cat "$dir/log" >&2; die "RustyPotato did not start"; }
	[[ "$(readlink -f "/proc/$RP_PID/exe")" == "$(readlink -f "$RP_BIN")" ]] ||
		die "started pid $RP_PID is not rustypotato"
}

# start_redis MODE: starts redis-server (AOF, no RDB) on a fresh directory;
# sets REDIS_PORT and REDIS_PID.
start_redis() {
	local mode=$1 dir
	dir=$(mktemp -d "$tmp/redis.XXXXXX")
	REDIS_PORT=$(free_port)
	setsid redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$dir" --appendonly yes \
		--appendfsync "$mode" --save '' --daemonize no --logfile "$dir/log" >/dev/null 2>&1 &
	REDIS_PID=$!
	pgids+=("$REDIS_PID")
	wait_ready "$REDIS_PORT" "$REDIS_PID" || { cat "$dir/log" >&2; die "redis-server did not start"; }
	local real
	real=$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" info server | tr -d '\r' | awk -F: '$1=="process_id"{print $2}')
	[[ "$real" == "$REDIS_PID" ]] || die "redis-server pid $real is not the started pid $REDIS_PID"
}

# stop PID: SIGTERM, then SIGKILL after 30 s.
stop() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || return 0
	for i in $(seq 300); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL -- "-$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# --- header ------------------------------------------------------------------

rp_version=$("$RP_BIN" version 2>/dev/null || echo "rustypotato (unknown version)")
redis_version=$(redis-server --version | awk '{for(i=1;i<=NF;i++) if ($i ~ /^v=/) print substr($i,3)}')
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo "none")
if [[ -n "$(git -C "$root" status --porcelain 2>/dev/null | head -1)" ]]; then commit+=" (uncommitted changes)"; fi
cpu=$(awk -F': *' '/^model name/{print $2; exit}' /proc/cpuinfo)
mem=$(awk '/^MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo)
os=$( (. /etc/os-release && echo "$PRETTY_NAME") 2>/dev/null || uname -s)
fs=$(df -PT "$tmp" | awk 'NR==2{print $2 " on " $1}')

cat <<EOF
## RustyPotato vs Redis $redis_version

Command (from the repository root):

\`\`\`
${envline}benchmarks/compare.sh
\`\`\`

| | |
|---|---|
| date | $(date -u '+%Y-%m-%d %H:%M UTC') |
| CPU | $(nproc) × ${cpu:-unknown} |
| memory | $mem |
| OS | $os, kernel $(uname -r) |
| data directories | $fs |
| load average at start | $(cut -d' ' -f1-3 /proc/loadavg) |
| RustyPotato | $rp_version, commit $commit |
| Redis | redis-server $redis_version (appendonly yes, save "", same appendfsync) |
| Go | $(go version 2>/dev/null | awk '{print $3}' || echo n/a) |

redis-benchmark -c $CLIENTS -r $KEYSPACE -n $N for each test and pipeline depth; the servers alternate
(RustyPotato, Redis, RustyPotato, Redis, ...), ${ROUNDS} run(s) each per test, median shown.
Latencies are redis-benchmark's p50 and p99 in milliseconds. Both servers and redis-benchmark share the machine.

EOF

# --- throughput --------------------------------------------------------------

declare -A RPS P50 P99 NAMES
order=()

# run_bench SERVER PORT TEST PIPELINE MODE: runs redis-benchmark and records
# rps/p50/p99 per reported test name (PING reports PING_INLINE and PING_MBULK).
run_bench() {
	local server=$1 port=$2 test=$3 pipe=$4 mode=$5 out line name rps p50 p99 key
	out=$(redis-benchmark -h 127.0.0.1 -p "$port" -c "$CLIENTS" -r "$KEYSPACE" -n "$N" -P "$pipe" -t "$test" --csv 2>/dev/null) || true
	if [[ -z "$(echo "$out" | awk -F'","' 'NR>1 && NF>=8')" ]]; then
		log "redis-benchmark -t $test -P $pipe against $server ($mode) produced no result"
		return
	fi
	while IFS= read -r line; do
		IFS=$'\t' read -r name rps p50 p99 < <(echo "$line" | awk -F, '{gsub(/"/, ""); print $1 "\t" $2 "\t" $5 "\t" $7}')
		key="$mode|$pipe|$name"
		if [[ -z "${NAMES[$key]:-}" ]]; then
			NAMES[$key]=1
			order+=("$key")
		fi
		RPS[$key|$server]+="$rps "
		P50[$key|$server]+="$p50 "
		P99[$key|$server]+="$p99 "
	done < <(echo "$out" | awk -F'","' 'NR>1 && NF>=8')
}

fmt_rps() { awk -v x="$1" 'BEGIN{if (x ~ /^[0-9.]+$/) printf "%.0f", x; else print "n/a"}'; }

median() {
	printf '%s\n' $1 | sort -g | awk '{a[NR]=$1} END{if (NR==0) print "n/a"; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'
}

for mode in $MODES; do
	log "appendfsync $mode: starting servers"
	start_rp "$mode"
	start_redis "$mode"
	for test in $TESTS; do
		for pipe in $PIPELINES; do
			for round in $(seq "$ROUNDS"); do
				log "appendfsync $mode: $test -P $pipe (round $round/$ROUNDS)"
				run_bench rp "$RP_PORT" "$test" "$pipe" "$mode"
				run_bench redis "$REDIS_PORT" "$test" "$pipe" "$mode"
			done
		done
	done
	stop "$RP_PID"
	stop "$REDIS_PID"
done

echo "### Throughput and latency"
echo
echo "| test | pipeline | appendfsync | RustyPotato req/s | Redis req/s | RP/Redis | RP p50 | Redis p50 | RP p99 | Redis p99 |"
echo "|------|---------:|-------------|------------------:|------------:|---------:|-------:|----------:|-------:|----------:|"
for key in "${order[@]}"; do
	IFS='|' read -r mode pipe name <<<"$key"
	rp=$(median "${RPS[$key|rp]:-}")
	rd=$(median "${RPS[$key|redis]:-}")
	ratio=$(awk -v a="$rp" -v b="$rd" 'BEGIN{if (a+0>0 && b+0>0) printf "%.2f", a/b; else print "n/a"}')
	printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$name" "$pipe" "$mode" \
		"$(fmt_rps "$rp")" "$(fmt_rps "$rd")" "$ratio" \
		"$(median "${P50[$key|rp]:-}")" "$(median "${P50[$key|redis]:-}")" \
		"$(median "${P99[$key|rp]:-}")" "$(median "${P99[$key|redis]:-}")"
done
echo

# --- memory ------------------------------------------------------------------

# load PORT: writes BIG keys "key:I" with 32-byte values, 100 per MSET.
load() {
	local port=$1 out
	out=$(awk -v n="$BIG" -v b=100 'BEGIN {
		for (i = 0; i < n; i += b) {
			m = (n - i < b) ? n - i : b
			printf "*%d\r\n$4\r\nMSET\r\n", 1 + 2*m
			for (j = i; j < i + m; j++) {
				k = "key:" j
				printf "$%d\r\n%s\r\n$32\r\n%032d\r\n", length(k), k, j
			}
		}
	}' | redis-cli -h 127.0.0.1 -p "$port" --pipe 2>&1) || die "loading keys failed: $out"
	echo "$out" | grep -q 'errors: 0,' || die "loading keys failed: $out"
}

hwm() { awk '/^VmHWM/{printf "%.1f MiB", $2/1024}' "/proc/$1/status"; }
rss() { awk '/^VmRSS/{printf "%.1f MiB", $2/1024}' "/proc/$1/status"; }

log "memory: loading $BIG keys into each server (appendfsync everysec)"
start_rp everysec
start_redis everysec
t0=$(date +%s.%N)
load "$RP_PORT"
t_rp=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')
t0=$(date +%s.%N)
load "$REDIS_PORT"
t_redis=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')
n_rp=$(redis-cli -h 127.0.0.1 -p "$RP_PORT" dbsize)
n_redis=$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" dbsize)

echo "### Memory after loading $BIG keys of 32-byte values"
echo
echo "Loaded with redis-cli --pipe (MSET, 100 keys per command), appendfsync everysec. Peak RSS is VmHWM from /proc/PID/status."
echo
echo "| server | keys (DBSIZE) | load time | peak RSS (VmHWM) | RSS now |"
echo "|--------|--------------:|----------:|-----------------:|--------:|"
echo "| RustyPotato | $n_rp | $t_rp s | $(hwm "$RP_PID") | $(rss "$RP_PID") |"
echo "| Redis $redis_version | $n_redis | $t_redis s | $(hwm "$REDIS_PID") | $(rss "$REDIS_PID") |"
echo
stop "$RP_PID"
stop "$REDIS_PID"

# --- restart after SIGKILL ---------------------------------------------------

if [[ "$CRASH_CYCLES" -gt 0 ]]; then
	log "restart after SIGKILL at $BIG keys: $CRASH_CYCLES cycles per server"
	rc=0
	"$CRASHBENCH_BIN" --bin "$RP_BIN" --keys "$BIG" --cycles "$CRASH_CYCLES" --redis-cycles "$CRASH_CYCLES" \
		--durability everysec --redis=true || rc=$?
	if [[ $rc -ne 0 ]]; then
		die "crashbench failed (exit $rc)"
	fi
fi
