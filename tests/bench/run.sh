#!/usr/bin/env bash
# run.sh: full-exchange benchmark: sample backend direct, behind nginx, and through xbus (mTLS)
#
# Usage: tests/bench/run.sh [BUILD_DIR] [--duration S] [--connections C] [options]
# See tests/bench/README.md. Everything listens on 127.0.0.1 only; every
# process started here is stopped on exit; every wait is bounded.
set -euo pipefail

PROG=$(basename "$0")
SRC_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
COMMAND_LINE="$0${*:+ $*}"

# The exchange measured (docs/sample-registry.md): a statute-based lookup.
SERVICE=VN/GOV/BCA/population/citizen
CLIENT=VN/GOV/BYT/health-services
PURPOSE=health-insurance-enrolment

BUILD_DIR=
DURATION=10
WARMUP=2
CONNECTIONS=32
LOADGEN_THREADS=1
PEOPLE=10000
SERVER_THREADS=$(nproc 2>/dev/null || echo 2)
ADAPTER_WORKERS=2
SCENARIOS=backend,nginx,xbus,nginx-1,xbus-1
WRK=auto
RECEIPTS=
KEEP=0

usage() {
        cat <<EOF
Usage: $PROG [BUILD_DIR] [OPTIONS]

Runs the same closed-loop load (xbus-loadgen) against, in turn:
  backend  xbus-sample-backend directly (plain HTTP): the data path without the bus
  nginx    nginx proxying to that backend over TLS (no client certificates, no checks)
  xbus     the full exchange: mTLS client -> xbusd -> ZeroMQ -> xbus-adapter-sample
  nginx-1, xbus-1   the same at one connection: the latency of a single request
and prints for each: requests/s, p50/p99, the ratio to the backend and to nginx,
the server CPU per request of each process (from /proc), the load generator's
CPU per request, and xbusd's memory; then wrk on the backend and nginx
scenarios, to compare the load generators.

  BUILD_DIR              meson build directory (default: $SRC_ROOT/build)
  --duration S           measured seconds per scenario (default $DURATION, 1..300)
  --warmup S             unmeasured seconds before each (default $WARMUP, 0..60)
  --connections C        concurrent keep-alive connections (default $CONNECTIONS, 1..10000)
  --loadgen-threads T    load generator threads (default $LOADGEN_THREADS, 1..64)
  --server-threads T     threads of xbusd and the backend, nginx workers (default: nproc = $SERVER_THREADS)
  --adapter-workers W    sample adapter workers (default $ADAPTER_WORKERS, 1..64)
  --people N             size of the sample dataset (default $PEOPLE, 1..1000000)
  --scenarios LIST       comma-separated subset of $SCENARIOS (default: all)
  --wrk MODE             auto (when wrk is installed), yes, no (default $WRK)
  --receipts MODE        xbusd's [log] receipts: per-batch or per-exchange (default: the node's, per-batch)
  --keep                 keep the temporary folder (configs, logs, raw results)
  -h, --help             this text

Binaries are taken from BUILD_DIR; override one with XBUSD=, XBUS_ADAPTER_SAMPLE=,
XBUS_SAMPLE_BACKEND=, XBUS_LOADGEN= (paths). Exit status: 0 when every scenario
ran (errors are reported, not fatal), 1 when one could not run, 2 on bad usage
or a missing program.
EOF
}

die_usage() {
        echo "$PROG: $*" >&2
        echo "Try '$PROG --help'." >&2
        exit 2
}

# want_uint NAME VALUE MIN MAX
want_uint() {
        if ! [[ $2 =~ ^[0-9]{1,7}$ ]] || (( 10#$2 < $3 || 10#$2 > $4 )); then
                die_usage "$1 must be an integer in $3..$4, not '$2'"
        fi
}

while (($#)); do
        case $1 in
        --duration) [[ $# -ge 2 ]] || die_usage "$1 needs a value"; want_uint "$1" "$2" 1 300; DURATION=$((10#$2)); shift 2 ;;
        --warmup) [[ $# -ge 2 ]] || die_usage "$1 needs a value"; want_uint "$1" "$2" 0 60; WARMUP=$((10#$2)); shift 2 ;;
        --connections) [[ $# -ge 2 ]] || die_usage "$1 needs a value"; want_uint "$1" "$2" 1 10000; CONNECTIONS=$((10#$2)); shift 2 ;;
        --loadgen-threads) [[ $# -ge 2 ]] || die_usage "$1 needs a value"; want_uint "$1" "$2" 1 64; LOADGEN_THREADS=$((10#$2)); shift 2 ;;
        --server-threads) [[ $# -ge 2 ]] || die_usage "$1 needs a value"; want_uint "$1" "$2" 1 64; SERVER_THREADS=$((10#$2)); shift 2 ;;
        --adapter-workers) [[ $# -ge 2 ]] || die_usage "$1 needs a value"; want_uint "$1" "$2" 1 64; ADAPTER_WORKERS=$((10#$2)); shift 2 ;;
        --people) [[ $# -ge 2 ]] || die_usage "$1 needs a value"; want_uint "$1" "$2" 1 1000000; PEOPLE=$((10#$2)); shift 2 ;;
        --scenarios) [[ $# -ge 2 ]] || die_usage "$1 needs a value"; SCENARIOS=$2; shift 2 ;;
        --wrk) [[ $# -ge 2 && $2 =~ ^(auto|yes|no)$ ]] || die_usage "$1 wants auto, yes or no"; WRK=$2; shift 2 ;;
        --receipts) [[ $# -ge 2 && $2 =~ ^(per-batch|per-exchange)$ ]] || die_usage "$1 wants per-batch or per-exchange"; RECEIPTS=$2; shift 2 ;;
        --keep) KEEP=1; shift ;;
        -h|--help) usage; exit 0 ;;
        -*) die_usage "unknown option '$1'" ;;
        *) [[ -z $BUILD_DIR ]] || die_usage "one build directory only ('$BUILD_DIR', '$1')"; BUILD_DIR=$1; shift ;;
        esac
done
BUILD_DIR=${BUILD_DIR:-$SRC_ROOT/build}

declare -A RUN=()
IFS=, read -r -a _list <<<"$SCENARIOS"
((${#_list[@]})) || die_usage "--scenarios is empty"
for s in "${_list[@]}"; do
        case $s in
        backend|nginx|xbus|nginx-1|xbus-1) RUN[$s]=1 ;;
        *) die_usage "unknown scenario '$s' (want backend, nginx, xbus, nginx-1, xbus-1)" ;;
        esac
done
NEED_NGINX=$(( ${RUN[nginx]:-0} || ${RUN[nginx-1]:-0} ))
NEED_XBUS=$(( ${RUN[xbus]:-0} || ${RUN[xbus-1]:-0} ))

# ---- programs: fail before starting anything -------------------------------

[[ -d $BUILD_DIR ]] || { echo "$PROG: build directory '$BUILD_DIR' does not exist (meson setup $BUILD_DIR && ninja -C $BUILD_DIR)" >&2; exit 2; }

# find_program NAME ENVVAR: print the path of a built executable
find_program() {
        local name=$1 override=${!2:-} p
        if [[ -n $override ]]; then
                [[ -x $override && -f $override ]] || { echo "$PROG: $2='$override' is not an executable file" >&2; return 1; }
                echo "$override"
                return 0
        fi
        for p in "$BUILD_DIR/$name" "$BUILD_DIR/tests/bench/$name" "$BUILD_DIR/exchange/daemon/$name" \
                 "$BUILD_DIR/adapters/sample/$name"; do
                [[ -x $p && -f $p ]] && { echo "$p"; return 0; }
        done
        p=$(find "$BUILD_DIR" -maxdepth 4 -type f -name "$name" -perm -u+x -print -quit 2>/dev/null || true)
        [[ -n $p ]] && { echo "$p"; return 0; }
        echo "$PROG: '$name' not found in $BUILD_DIR (build it: ninja -C $BUILD_DIR; or set $2=PATH)" >&2
        return 1
}

missing=0
LOADGEN=$(find_program xbus-loadgen XBUS_LOADGEN) || missing=1
BACKEND=$(find_program xbus-sample-backend XBUS_SAMPLE_BACKEND) || missing=1
ADAPTER=$(find_program xbus-adapter-sample XBUS_ADAPTER_SAMPLE) || missing=1
XBUSD_BIN=
if ((NEED_XBUS)); then
        XBUSD_BIN=$(find_program xbusd XBUSD) || missing=1
fi
NGINX=
if ((NEED_NGINX)); then
        NGINX=$(command -v nginx || true)
        [[ -z $NGINX && -x /usr/sbin/nginx ]] && NGINX=/usr/sbin/nginx
        [[ -n $NGINX ]] || { echo "$PROG: nginx not found (apt-get install nginx-light, or --scenarios backend,xbus)" >&2; missing=1; }
fi
WRK_BIN=
if [[ $WRK != no ]]; then
        WRK_BIN=$(command -v wrk || true)
        [[ -n $WRK_BIN || $WRK == auto ]] || { echo "$PROG: wrk not found (apt-get install wrk, or --wrk no)" >&2; missing=1; }
fi
for tool in curl python3 openssl; do
        command -v "$tool" >/dev/null || { echo "$PROG: '$tool' is needed" >&2; missing=1; }
done
((missing == 0)) || exit 2

# ---- processes and cleanup --------------------------------------------------

TMP=$(mktemp -d /tmp/xbus-bench.XXXXXX)
declare -a PIDS=()
declare -A PID_NAME=()

stop_pid() {
        local pid=$1 i
        kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
                kill -KILL "$pid" 2>/dev/null || true
        fi
        wait "$pid" 2>/dev/null || true
}

# shellcheck disable=SC2317 # called from the EXIT trap
cleanup() {
        local rc=$? i
        trap - EXIT INT TERM
        for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
                stop_pid "${PIDS[i]}"
        done
        if ((KEEP)); then
                echo "temporary folder kept: $TMP" >&2
        else
                rm -rf "$TMP"
        fi
        exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start NAME LOGFILE CMD...: run in the background, remember the pid
start() {
        local name=$1 log=$2
        shift 2
        "$@" >"$log" 2>&1 &
        PIDS+=("$!")
        PID_NAME[$!]=$name
        LAST_PID=$!
}

stop_named() {
        local name=$1 pid
        for pid in "${PIDS[@]}"; do
                [[ ${PID_NAME[$pid]:-} == "$name" ]] && stop_pid "$pid"
        done
        return 0
}

fail_log() {
        echo "--- last lines of $1:" >&2
        tail -n 20 "$1" >&2 || true
}

# free_ports N: N distinct free TCP ports on 127.0.0.1
free_ports() {
        python3 - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

# wait_status WHAT PID SECONDS WANT CURL_ARGS...: poll until curl sees HTTP status WANT
wait_status() {
        local what=$1 pid=$2 secs=$3 want=$4 code="" i
        shift 4
        for ((i = 0; i < secs * 10; i++)); do
                if ! kill -0 "$pid" 2>/dev/null; then
                        echo "$PROG: $what exited during start-up" >&2
                        return 1
                fi
                code=$(curl -s -o "$TMP/wait.body" -w '%{http_code}' --max-time 2 "$@" 2>/dev/null || true)
                [[ $code == "$want" ]] && return 0
                sleep 0.1
        done
        echo "$PROG: $what not ready after ${secs}s (last HTTP status '${code:-none}'): $(head -c 300 "$TMP/wait.body" 2>/dev/null || true)" >&2
        return 1
}

read -r PORT_BACKEND PORT_NGINX PORT_HTTP PORT_BUS < <(free_ports 4)

# ---- CPU and memory, from /proc ----------------------------------------------
#
# A process's utime + stime (/proc/PID/stat, fields 14 and 15, clock ticks)
# counts all its threads, finished ones too. Each scenario names the server
# processes it measures (GROUPS: name -> pids); snap() records their ticks, the
# xbusd threads' ticks and the node's exchange count at one moment.

CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)
declare -A GROUP_PIDS=() SNAP=() THREAD_NAME=()
GROUP_ORDER=()
XBUSD_PID= ADAPTER_PID= BACKEND_PID= NGINX_PID=

# stat_ticks FILE: utime + stime of a /proc .../stat file (0 when gone)
stat_ticks() {
        local s f
        s=$(cat "$1" 2>/dev/null) || { echo 0; return; }
        s=${s##*) } # after the command name, which may hold spaces: field 3 onwards
        read -r -a f <<<"$s"
        echo $(( f[11] + f[12] ))
}

# children PID: the pids of its child processes
children() {
        cat /proc/"$1"/task/*/children 2>/dev/null || true
}

# node_requests: xbus_requests_total of xbusd's /metrics ("" when unknown)
node_requests() {
        curl -s --max-time 5 --cacert "$PKI/ca.crt" "https://127.0.0.1:$PORT_HTTP/metrics" 2>/dev/null |
                awk '$1 == "xbus_requests_total" { print $2 }'
}

# snap TAG: server ticks per group, xbusd's threads, the node's count, the time
snap() {
        local tag=$1 g pid sum t tid
        SNAP[$tag.time]=$(date +%s%N)
        for g in "${GROUP_ORDER[@]}"; do
                sum=0
                for pid in ${GROUP_PIDS[$g]}; do
                        sum=$(( sum + $(stat_ticks /proc/"$pid"/stat) ))
                done
                SNAP[$tag.$g]=$sum
        done
        if [[ -n ${GROUP_PIDS[xbusd]:-} ]]; then
                for t in /proc/"$XBUSD_PID"/task/*; do
                        tid=${t##*/}
                        SNAP[$tag.tid.$tid]=$(stat_ticks "$t/stat")
                        THREAD_NAME[$tid]=$(cat "$t/comm" 2>/dev/null || echo '?')
                done
                SNAP[$tag.count]=$(node_requests)
        fi
}

# us_per TICKS COUNT: CPU microseconds per request, one decimal ("-" when unknown)
us_per() {
        awk -v t="$1" -v n="${2:-0}" -v hz="$CLK_TCK" 'BEGIN { if (n > 0) printf "%.1f", t * 1e6 / hz / n; else printf "-" }'
}

# rss KEY: a line of /proc/XBUSD_PID/status in MiB (RssAnon, RssFile, ...)
rss_mib() {
        awk -v k="$1:" '$1 == k { printf "%.1f", $2 / 1024 }' /proc/"$XBUSD_PID"/status 2>/dev/null
}

# mapped_log_mib: resident size of xbusd's mapping of the exchange log (smaps)
mapped_log_mib() {
        awk '/^[0-9a-f]+-[0-9a-f]+ / { inlog = ($NF ~ /\/log\/data\.mdb$/) } inlog && $1 == "Rss:" { kb += $2 }
             END { printf "%.1f", kb / 1024 }' /proc/"$XBUSD_PID"/smaps 2>/dev/null
}

# ---- results ------------------------------------------------------------------

declare -A R=()
ORDER=()
FAILED=0

# run_client KEY CMD...: run a load generator in the background; its CPU over the whole run
# (utime + stime of the finished child, from the wrapper's cutime + cstime) goes to KEY.cpu
run_client() {
        local key=$1
        shift
        sh -c 'out=$1 err=$2 cpu=$3; shift 3
               "$@" >"$out" 2>"$err"; rc=$?
               read -r l </proc/$$/stat; echo "$l" >"$cpu"; exit $rc' sh \
                "$TMP/$key.out" "$TMP/$key.err" "$TMP/$key.cpu" timeout $((WARMUP + DURATION + 60)) "$@" &
        CLIENT_PID=$!
}

# client_ticks KEY: the load generator's ticks (cutime + cstime of its wrapper)
client_ticks() {
        local s f
        s=$(cat "$TMP/$1.cpu" 2>/dev/null) || { echo 0; return; }
        s=${s##*) }
        read -r -a f <<<"$s"
        echo $(( f[13] + f[14] ))
}

# measure KEY CONNECTIONS URL [LOADGEN ARGS...]
measure() {
        local key=$1 conns=$2 url=$3 line kv k v rc=0 c0=""
        shift 3
        local cmd=("$LOADGEN" -d "$DURATION" -w "$WARMUP" -c "$conns" -t "$LOADGEN_THREADS" "$@" "$url")
        R[$key.cmd]=$(printf '%q ' "${cmd[@]}")
        R[$key.conns]=$conns
        echo "running $key: ${WARMUP}s warm-up + ${DURATION}s ..." >&2
        [[ -n ${GROUP_PIDS[xbusd]:-} ]] && c0=$(node_requests)
        run_client "$key" "${cmd[@]}"
        sleep "$WARMUP"
        snap "$key.a"
        sleep "$DURATION"
        snap "$key.b"
        wait "$CLIENT_PID" || rc=$?
        if [[ -n $c0 ]]; then
                sleep 0.5 # what was in flight at the deadline completes at the node
                R[$key.node_run]=$(( $(node_requests) - c0 ))
        fi
        if ((rc != 0)); then
                R[$key.status]="loadgen failed"
                fail_log "$TMP/$key.err"
                FAILED=1
                return 0
        fi
        line=$(cat "$TMP/$key.out")
        [[ -s $TMP/$key.err ]] && sed 's/^/  /' "$TMP/$key.err" >&2
        for kv in $line; do
                k=${kv%%=*} v=${kv#*=}
                R[$key.$k]=$v
        done
        R[$key.client_ticks]=$(client_ticks "$key")
        if [[ -z ${R[$key.rps]:-} ]]; then
                R[$key.status]="no result"
                FAILED=1
        elif [[ ${R[$key.requests]} == 0 ]]; then
                R[$key.status]="no response"
                FAILED=1
        else
                R[$key.status]=ok
        fi
}

# measure_wrk KEY URL: wrk with the same connections and threads, for W + D seconds
measure_wrk() {
        local key=$1 url=$2 rc=0 out
        local cmd=("$WRK_BIN" -c "$CONNECTIONS" -t "$LOADGEN_THREADS" -d "$((WARMUP + DURATION))s" --latency "$url")
        R[$key.cmd]=$(printf '%q ' "${cmd[@]}")
        echo "running $key: wrk, $((WARMUP + DURATION))s ..." >&2
        snap "$key.a"
        run_client "$key" "${cmd[@]}"
        wait "$CLIENT_PID" || rc=$?
        snap "$key.b"
        out=$TMP/$key.out
        if ((rc != 0)); then
                R[$key.status]="wrk failed"
                fail_log "$TMP/$key.err"
                return 0
        fi
        # "N requests in 12.00s", "Requests/sec: R", latency distribution "50% 1.23ms"
        R[$key.requests_total]=$(awk '$2 == "requests" && $3 == "in" { print $1 }' "$out")
        R[$key.rps]=$(awk '$1 == "Requests/sec:" { print $2 }' "$out")
        R[$key.p50_ms]=$(awk '$1 == "50%" { print $2 }' "$out" | wrk_ms)
        R[$key.p99_ms]=$(awk '$1 == "99%" { print $2 }' "$out" | wrk_ms)
        R[$key.non2xx]=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$out")
        R[$key.errors]=$(awk '/Socket errors:/ { gsub(",", ""); print $4 + $6 + $8 + $10 }' "$out")
        R[$key.client_ticks]=$(client_ticks "$key")
        R[$key.status]=ok
}

# wrk_ms: "850.00us", "1.23ms", "1.02s" -> milliseconds
wrk_ms() {
        awk '{ v = $1 + 0; if ($1 ~ /us$/) v /= 1000; else if ($1 ~ /ms$/) v += 0; else if ($1 ~ /s$/) v *= 1000
               printf "%.3f", v }'
}

# probe KEY CURL_ARGS...: one request first, so a broken setup is named, not measured
probe() {
        local key=$1 code
        shift
        code=$(curl -s -o "$TMP/$key.probe" -w '%{http_code}' --max-time 10 "$@" 2>"$TMP/$key.probe.err" || true)
        if [[ $code == 200 ]]; then
                R[$key.note]="probe 200, $(wc -c <"$TMP/$key.probe") bytes"
                return 0
        fi
        echo "$PROG: $key: probe answered '${code:-no response}': $(head -c 300 "$TMP/$key.probe" 2>/dev/null) $(cat "$TMP/$key.probe.err")" >&2
        R[$key.note]="probe answered ${code:-nothing}"
        [[ -n $code && $code != 000 ]]
}

scenario_failed() {
        R[$1.status]=$2
        FAILED=1
}

# groups NAME...: the process groups the next measurements sample
groups() {
        local g
        GROUP_ORDER=("$@")
        for g in "$@"; do
                case $g in
                backend) GROUP_PIDS[backend]=$BACKEND_PID ;;
                nginx) GROUP_PIDS[nginx]="$NGINX_PID $(children "$NGINX_PID")" ;;
                xbusd) GROUP_PIDS[xbusd]=$XBUSD_PID ;;
                adapter) GROUP_PIDS[adapter]=$ADAPTER_PID ;;
                esac
        done
        [[ " $* " == *" xbusd "* ]] || unset 'GROUP_PIDS[xbusd]'
        return 0
}

# ---- the sample dataset and the backend ---------------------------------------

DATA=$TMP/data
SUBJECT=$("$ADAPTER" --print-ids 1 --data "$DATA" --people "$PEOPLE" 2>"$TMP/print-ids.log" | head -n 1 || true)
if ! [[ $SUBJECT =~ ^[0-9]{12}$ ]]; then
        echo "$PROG: '$ADAPTER --print-ids 1' gave no subject id ('$SUBJECT')" >&2
        fail_log "$TMP/print-ids.log"
        exit 1
fi

BACKEND_URL="http://127.0.0.1:$PORT_BACKEND/$SERVICE?subject=$SUBJECT"
start backend "$TMP/backend.log" "$BACKEND" --listen "127.0.0.1:$PORT_BACKEND" --data "$DATA" \
        --people "$PEOPLE" --threads "$SERVER_THREADS"
BACKEND_PID=$LAST_PID
# generating the dataset happens at first start: allow for it
if ! wait_status "xbus-sample-backend" "$BACKEND_PID" 180 200 "$BACKEND_URL"; then
        fail_log "$TMP/backend.log"
        exit 1
fi

# ---- xbusd and the adapter (first: nginx uses the node certificate it creates) --

XBUS_OK=0
PKI=$TMP/xbus/state/pki
if ((NEED_XBUS)); then
        mkdir -p "$TMP/xbus/state"
        cat >"$TMP/xbus/xbusd.conf" <<EOF
# written by tests/bench/run.sh
[node]
state-dir = $TMP/xbus/state
[http]
listen = 127.0.0.1:$PORT_HTTP
threads = $SERVER_THREADS
[adapters]
listen = tcp://127.0.0.1:$PORT_BUS
EOF
        [[ -z $RECEIPTS ]] || printf '[log]\nreceipts = %s\n' "$RECEIPTS" >>"$TMP/xbus/xbusd.conf"
        start xbusd "$TMP/xbusd.log" "$XBUSD_BIN" --config "$TMP/xbus/xbusd.conf"
        XBUSD_PID=$LAST_PID
        if wait_status xbusd "$XBUSD_PID" 60 200 -k "https://127.0.0.1:$PORT_HTTP/health"; then
                # the demo PKI's keys: adapters always authenticate (CURVE), on loopback too
                start adapter "$TMP/adapter.log" "$ADAPTER" --bus "tcp://127.0.0.1:$PORT_BUS" --data "$DATA" \
                        --people "$PEOPLE" --workers "$ADAPTER_WORKERS" \
                        --curve-server-key "$(cat "$PKI/node-curve.pub")" \
                        --curve-public-key "$(cat "$PKI/adapters/sample.pub")" \
                        --curve-secret-key-file "$PKI/adapters/sample.key"
                ADAPTER_PID=$LAST_PID
                XBUS_CURL=(--cert "$PKI/clients/${CLIENT//\//_}.crt" --key "$PKI/clients/${CLIENT//\//_}.key"
                           --cacert "$PKI/ca.crt"
                           -H "X-Road-Client: $CLIENT" -H "X-Bus-Subject: $SUBJECT" -H "X-Bus-Purpose: $PURPOSE"
                           "https://127.0.0.1:$PORT_HTTP/r1/$SERVICE")
                # ready once the adapter has announced itself and an exchange succeeds
                if wait_status "xbusd + adapter" "$ADAPTER_PID" 30 200 "${XBUS_CURL[@]}"; then
                        XBUS_OK=1
                else
                        fail_log "$TMP/xbusd.log"
                        fail_log "$TMP/adapter.log"
                        scenario_failed xbus "exchange not ready"
                        scenario_failed xbus-1 "exchange not ready"
                fi
        else
                fail_log "$TMP/xbusd.log"
                scenario_failed xbus "xbusd not ready"
                scenario_failed xbus-1 "xbusd not ready"
        fi
fi

# ---- (a) backend direct -------------------------------------------------------

if ((${RUN[backend]:-0})); then
        ORDER+=(backend)
        groups backend
        if probe backend "$BACKEND_URL"; then
                measure backend "$CONNECTIONS" "$BACKEND_URL"
                [[ -n $WRK_BIN ]] && measure_wrk backend.wrk "$BACKEND_URL"
        else
                scenario_failed backend "probe failed"
        fi
fi

# ---- (b) nginx, TLS, proxying to the backend ---------------------------------

if ((NEED_NGINX)); then
        ((${RUN[nginx]:-0})) && ORDER+=(nginx)
        ((${RUN[nginx-1]:-0})) && ORDER+=(nginx-1)
        NG=$TMP/nginx
        mkdir -p "$NG/tmp"
        if [[ -f $PKI/node.crt && -f $PKI/node.key ]]; then
                NGINX_CERT=$PKI/node.crt NGINX_KEY=$PKI/node.key NGINX_CA=$PKI/ca.crt
                R[nginx_cert]="the xbus demo node certificate"
        else
                # without xbusd (--scenarios without xbus): a throwaway certificate, same key type
                NGINX_CERT=$NG/node.crt NGINX_KEY=$NG/node.key NGINX_CA=$NG/node.crt
                openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
                        -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
                        -keyout "$NGINX_KEY" -out "$NGINX_CERT" 2>"$NG/openssl.log"
                R[nginx_cert]="a throwaway self-signed P-256 certificate (xbus scenario not run)"
        fi
        cat >"$NG/nginx.conf" <<EOF
# written by tests/bench/run.sh: TLS termination and a keep-alive proxy, nothing else
worker_processes $SERVER_THREADS;
pid $NG/nginx.pid;
error_log $NG/error.log warn;
events {
        worker_connections 4096;
}
http {
        access_log off;
        client_body_temp_path $NG/tmp/body;
        proxy_temp_path $NG/tmp/proxy;
        fastcgi_temp_path $NG/tmp/fastcgi;
        uwsgi_temp_path $NG/tmp/uwsgi;
        scgi_temp_path $NG/tmp/scgi;
        keepalive_requests 1000000;
        keepalive_timeout 75s;
        upstream sample_backend {
                server 127.0.0.1:$PORT_BACKEND;
                keepalive 128;
                keepalive_requests 1000000;
        }
        server {
                listen 127.0.0.1:$PORT_NGINX ssl;
                ssl_certificate $NGINX_CERT;
                ssl_certificate_key $NGINX_KEY;
                ssl_protocols TLSv1.2 TLSv1.3;
                location / {
                        proxy_pass http://sample_backend;
                        proxy_http_version 1.1;
                        proxy_set_header Connection "";
                        # never spill to $NG/tmp (0700, unreadable by workers when run as root)
                        proxy_max_temp_file_size 0;
                }
        }
}
EOF
        NGINX_URL="https://127.0.0.1:$PORT_NGINX/$SERVICE?subject=$SUBJECT"
        start nginx "$NG/stdout.log" "$NGINX" -p "$NG" -c "$NG/nginx.conf" -e "$NG/error.log" -g 'daemon off;'
        NGINX_PID=$LAST_PID
        if wait_status nginx "$NGINX_PID" 15 200 --cacert "$NGINX_CA" "$NGINX_URL" &&
           probe nginx --cacert "$NGINX_CA" "$NGINX_URL"; then
                groups nginx backend
                if ((${RUN[nginx]:-0})); then
                        measure nginx "$CONNECTIONS" "$NGINX_URL" --cacert "$NGINX_CA"
                        [[ -n $WRK_BIN ]] && measure_wrk nginx.wrk "$NGINX_URL"
                fi
                ((${RUN[nginx-1]:-0})) && measure nginx-1 1 "$NGINX_URL" --cacert "$NGINX_CA"
        else
                fail_log "$NG/error.log"
                scenario_failed nginx "nginx not ready"
                scenario_failed nginx-1 "nginx not ready"
        fi
        # stop it so it takes no CPU from the next scenario
        stop_named nginx
fi

# ---- (c) xbus: the full mTLS exchange -----------------------------------------

XBUS_ARGS=(--cert "$PKI/clients/${CLIENT//\//_}.crt" --key "$PKI/clients/${CLIENT//\//_}.key" --cacert "$PKI/ca.crt"
           -H "X-Road-Client: $CLIENT" -H "X-Bus-Subject: $SUBJECT" -H "X-Bus-Purpose: $PURPOSE")
for key in xbus xbus-1; do
        ((${RUN[$key]:-0})) || continue
        ORDER+=("$key")
        if ((XBUS_OK)) && probe "$key" "${XBUS_CURL[@]}"; then
                groups xbusd adapter
                measure "$key" "$([[ $key == xbus ]] && echo "$CONNECTIONS" || echo 1)" \
                        "https://127.0.0.1:$PORT_HTTP/r1/$SERVICE" "${XBUS_ARGS[@]}"
                R[$key.rss_anon]=$(rss_mib RssAnon)
                R[$key.rss_file]=$(rss_mib RssFile)
                R[$key.rss_log]=$(mapped_log_mib)
                R[$key.node_total]=$(node_requests)
        elif ((XBUS_OK)); then
                scenario_failed "$key" "probe failed"
        fi
done

# ---- report -------------------------------------------------------------------

cpu_model=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo 2>/dev/null | head -n 1)
label() {
        case $1 in
        backend) echo "backend (http, direct)" ;;
        nginx) echo "nginx (https proxy)" ;;
        xbus) echo "xbus (mTLS exchange)" ;;
        nginx-1) echo "nginx, 1 connection" ;;
        xbus-1) echo "xbus, 1 connection" ;;
        esac
}
ratio() {       # ratio A B: A/B with two decimals, "-" when unknown
        if [[ -n ${1:-} && -n ${2:-} ]] && awk -v b="$2" 'BEGIN { exit !(b > 0) }'; then
                awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'
        else
                echo "-"
        fi
}
# same_conns KEY BASE: BASE's rps when it ran at KEY's connection count (ratios compare like with like)
base_rps() {
        local key=$1 base=$2
        [[ ${R[$base.status]:-} == ok && ${R[$base.conns]:-} == "${R[$key.conns]:-}" ]] && echo "${R[$base.rps]}"
        [[ ${R[$base-1.status]:-} == ok && ${R[$base-1.conns]:-} == "${R[$key.conns]:-}" ]] && echo "${R[$base-1.rps]}"
        return 0
}
# count KEY: the requests KEY's CPU is divided by (R[KEY.count]). The node counts its own
# exchanges over the sampled window; for nginx and the backend it is the load generator's rate
# times that window (its own window is a few ms apart); for wrk, its count over the whole run.
count() {
        local key=$1 t
        t=$(awk -v a="${SNAP[$key.a.time]:-0}" -v b="${SNAP[$key.b.time]:-0}" 'BEGIN { printf "%.6f", (b - a) / 1e9 }')
        if [[ -n ${SNAP[$key.a.count]:-} && -n ${SNAP[$key.b.count]:-} ]]; then
                R[$key.count]=$(( SNAP[$key.b.count] - SNAP[$key.a.count] ))
        elif [[ $key == *.wrk ]]; then
                R[$key.count]=${R[$key.requests_total]:-0}
        else
                R[$key.count]=$(awk -v r="${R[$key.rps]:-0}" -v t="$t" 'BEGIN { printf "%d", r * t }')
        fi
}
# server_cpu KEY: "total = process a + process b", us per request over the sampled window
server_cpu() {
        local key=$1 g d total=0 parts=""
        for g in ${R[$key.groups]}; do
                d=$(( ${SNAP[$key.b.$g]:-0} - ${SNAP[$key.a.$g]:-0} ))
                total=$(( total + d ))
                parts+="${parts:+ + }$g $(us_per "$d" "${R[$key.count]:-0}")"
        done
        echo "$(us_per "$total" "${R[$key.count]:-0}") = $parts"
}

# remember which groups each measurement sampled, and what its CPU is divided by
for key in "${ORDER[@]}" backend.wrk nginx.wrk; do
        [[ ${R[$key.status]:-} == ok ]] && count "$key"
        case $key in
        backend|backend.wrk) R[$key.groups]="backend" ;;
        nginx|nginx-1|nginx.wrk) R[$key.groups]="nginx backend" ;;
        xbus|xbus-1) R[$key.groups]="xbusd adapter" ;;
        esac
done

echo
echo "xbus exchange benchmark ($(date -u +%Y-%m-%dT%H:%M:%SZ))"
echo "machine:  $(nproc) CPUs, ${cpu_model:-unknown CPU}, Linux $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "command:  $COMMAND_LINE"
echo "load:     closed loop, $CONNECTIONS keep-alive connections (1 in the -1 rows), $LOADGEN_THREADS loadgen thread(s), ${WARMUP}s warm-up + ${DURATION}s measured per scenario, on this same machine"
echo "request:  GET $SERVICE for subject $SUBJECT (client $CLIENT, purpose $PURPOSE)"
echo
printf '%-24s %9s %7s %7s %6s %6s %8s %7s  %-40s %7s  %s\n' scenario rps "p50 ms" "p99 ms" errors non2xx \
        /backend /nginx "server CPU us/request, per process" "client" status
for key in "${ORDER[@]}"; do
        cpu=- client=-
        if [[ ${R[$key.status]:-} == ok ]]; then
                cpu=$(server_cpu "$key")
                client=$(us_per "${R[$key.client_ticks]:-0}" "${R[$key.requests_total]:-0}")
        fi
        printf '%-24s %9s %7s %7s %6s %6s %8s %7s  %-40s %7s  %s\n' "$(label "$key")" \
                "${R[$key.rps]:--}" "${R[$key.p50_ms]:--}" "${R[$key.p99_ms]:--}" \
                "${R[$key.errors]:--}" "${R[$key.non2xx]:--}" \
                "$(ratio "${R[$key.rps]:-}" "$(base_rps "$key" backend | head -n 1)")" \
                "$(ratio "${R[$key.rps]:-}" "$(base_rps "$key" nginx | head -n 1)")" \
                "$cpu" "$client" "${R[$key.status]:-not run}${R[$key.note]:+ (${R[$key.note]})}"
done
echo
for key in xbus xbus-1; do
        [[ ${R[$key.status]:-} == ok ]] || continue
        echo "$key: xbusd RssAnon ${R[$key.rss_anon]:-?} MiB after ${R[$key.node_total]:-?} exchanges in all;" \
             "RssFile ${R[$key.rss_file]:-?} MiB, of which the mapped exchange log ${R[$key.rss_log]:-?} MiB (page cache)"
        echo "$key: the node counted ${R[$key.node_run]:-?} exchanges during the run, the load generator" \
             "${R[$key.requests_total]:-?} answers (+ errors ${R[$key.errors]:-?}; up to ${R[$key.conns]} in flight at its deadline are the node's only)"
        # unnamed threads ("xbusd") by creation order, as exchange/daemon/daemon.c starts them
        line="" n=0
        roles=(main "log writer" broker)
        for tid in $(for k in "${!SNAP[@]}"; do [[ $k == "$key.b.tid."* ]] && echo "${k##*.}"; done | sort -n); do
                d=$(( ${SNAP[$key.b.tid.$tid]:-0} - ${SNAP[$key.a.tid.$tid]:-0} ))
                name=${THREAD_NAME[$tid]}
                if [[ $name == xbusd ]]; then
                        name=${roles[n]:-http worker}
                        n=$((n + 1))
                fi
                ((d > 0)) || continue
                line+=" $name $(us_per "$d" "${R[$key.count]:-0}");"
        done
        echo "$key: xbusd threads, us/exchange:${line:- none}"
done
if [[ ${R[backend.wrk.status]:-} == ok || ${R[nginx.wrk.status]:-} == ok ]]; then
        echo
        echo "load generators compared (same connections and threads; client CPU over the whole run, warm-up included):"
        printf '  %-10s %-13s %9s %7s %7s %12s  %s\n' scenario client rps "p50 ms" "p99 ms" "client us/req" "server CPU us/request"
        for key in backend nginx; do
                for v in "$key" "$key.wrk"; do
                        [[ ${R[$v.status]:-} == ok ]] || continue
                        printf '  %-10s %-13s %9s %7s %7s %12s  %s\n' "$key" "$([[ $v == *.wrk ]] && echo wrk || echo xbus-loadgen)" \
                                "${R[$v.rps]}" "${R[$v.p50_ms]:--}" "${R[$v.p99_ms]:--}" \
                                "$(us_per "${R[$v.client_ticks]:-0}" "${R[$v.requests_total]:-0}")" "$(server_cpu "$v")"
                done
        done
        echo "  (wrk cannot present a TLS client certificate: the xbus scenario has no wrk row)"
fi
echo
if [[ ${R[xbus.status]:-} == ok ]]; then
        xcpu=$(server_cpu xbus | cut -d' ' -f1)
        verdict() { if awk "BEGIN { exit !($1) }"; then echo met; else echo "NOT met"; fi; }
        echo "targets (issue 14; measured, never asserted):"
        echo "  server CPU per full exchange (xbusd + adapter) <= 135 us: $xcpu us, $(verdict "${xcpu/-/1e9} <= 135")"
        if [[ ${R[nginx.status]:-} == ok ]]; then
                echo "  xbus >= 0.5x nginx in the same run: $(ratio "${R[xbus.rps]}" "${R[nginx.rps]}"), $(verdict "${R[xbus.rps]} >= 0.5 * ${R[nginx.rps]}")"
        fi
        echo "  >= 10000 exchanges/s with p99 <= 5 ms at $CONNECTIONS connections, no errors: ${R[xbus.rps]}/s p99 ${R[xbus.p99_ms]} ms," \
             "$(verdict "${R[xbus.rps]} >= 10000 && ${R[xbus.p99_ms]} <= 5 && ${R[xbus.errors]} == 0 && ${R[xbus.non2xx]} == 0")"
        if [[ ${R[xbus-1.status]:-} == ok ]]; then
                echo "  one request at 1 connection, p50 <= 0.5 ms: ${R[xbus-1.p50_ms]} ms, $(verdict "${R[xbus-1.p50_ms]} <= 0.5")"
        fi
        if [[ -n ${R[xbus-1.rss_anon]:-${R[xbus.rss_anon]:-}} ]]; then
                echo "  xbusd RssAnon <= 64 MiB (after 1,000,000 exchanges; here after ${R[xbus-1.node_total]:-${R[xbus.node_total]}}): ${R[xbus-1.rss_anon]:-${R[xbus.rss_anon]}} MiB"
        fi
fi
for key in "${ORDER[@]}"; do
        if [[ -n ${R[$key.non2xx]:-} && ${R[$key.non2xx]} != 0 ]] || [[ -n ${R[$key.errors]:-} && ${R[$key.errors]} != 0 ]]; then
                echo "warning: $key had errors or non-2xx answers: its rps and latencies do not describe successful requests"
        fi
done
[[ -n ${R[nginx_cert]:-} ]] && echo "nginx certificate: ${R[nginx_cert]}"
echo "load generator commands:"
for key in "${ORDER[@]}" backend.wrk nginx.wrk; do
        [[ -n ${R[$key.cmd]:-} ]] && echo "  $key: ${R[$key.cmd]}"
done
((KEEP)) && echo "raw results and logs: $TMP"

exit "$FAILED"
