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
SCENARIOS=backend,nginx,xbus
KEEP=0

usage() {
        cat <<EOF
Usage: $PROG [BUILD_DIR] [OPTIONS]

Runs the same closed-loop load (xbus-loadgen) against, in turn:
  backend  xbus-sample-backend directly (plain HTTP): the data path without the bus
  nginx    nginx proxying to that backend over TLS (no client certificates, no checks)
  xbus     the full exchange: mTLS client -> xbusd -> ZeroMQ -> xbus-adapter-sample
and prints requests/s, p50/p99 and the ratio of each to the backend.

  BUILD_DIR              meson build directory (default: $SRC_ROOT/build)
  --duration S           measured seconds per scenario (default $DURATION, 1..300)
  --warmup S             unmeasured seconds before each (default $WARMUP, 0..60)
  --connections C        concurrent keep-alive connections (default $CONNECTIONS, 1..10000)
  --loadgen-threads T    load generator threads (default $LOADGEN_THREADS, 1..64)
  --server-threads T     threads of xbusd and the backend, nginx workers (default: nproc = $SERVER_THREADS)
  --adapter-workers W    sample adapter workers (default $ADAPTER_WORKERS, 1..64)
  --people N             size of the sample dataset (default $PEOPLE, 1..1000000)
  --scenarios LIST       comma-separated subset of backend,nginx,xbus (default: all)
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
        --keep) KEEP=1; shift ;;
        -h|--help) usage; exit 0 ;;
        -*) die_usage "unknown option '$1'" ;;
        *) [[ -z $BUILD_DIR ]] || die_usage "one build directory only ('$BUILD_DIR', '$1')"; BUILD_DIR=$1; shift ;;
        esac
done
BUILD_DIR=${BUILD_DIR:-$SRC_ROOT/build}

RUN_BACKEND=0 RUN_NGINX=0 RUN_XBUS=0
IFS=, read -r -a _list <<<"$SCENARIOS"
((${#_list[@]})) || die_usage "--scenarios is empty"
for s in "${_list[@]}"; do
        case $s in
        backend) RUN_BACKEND=1 ;;
        nginx) RUN_NGINX=1 ;;
        xbus) RUN_XBUS=1 ;;
        *) die_usage "unknown scenario '$s' (want backend, nginx, xbus)" ;;
        esac
done

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
if ((RUN_XBUS)); then
        XBUSD_BIN=$(find_program xbusd XBUSD) || missing=1
fi
NGINX=
if ((RUN_NGINX)); then
        NGINX=$(command -v nginx || true)
        [[ -z $NGINX && -x /usr/sbin/nginx ]] && NGINX=/usr/sbin/nginx
        [[ -n $NGINX ]] || { echo "$PROG: nginx not found (apt-get install nginx-light, or --scenarios backend,xbus)" >&2; missing=1; }
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

# ---- results ------------------------------------------------------------------

declare -A R_RPS=() R_P50=() R_P99=() R_ERR=() R_NON2XX=() R_STATUS=() R_CMD=() R_NOTE=()
ORDER=()
FAILED=0

# measure KEY URL [LOADGEN ARGS...]
measure() {
        local key=$1 url=$2 line kv k v
        shift 2
        local cmd=("$LOADGEN" -d "$DURATION" -w "$WARMUP" -c "$CONNECTIONS" -t "$LOADGEN_THREADS" "$@" "$url")
        R_CMD[$key]=$(printf '%q ' "${cmd[@]}")
        echo "running $key: ${WARMUP}s warm-up + ${DURATION}s ..." >&2
        if ! line=$(timeout $((WARMUP + DURATION + 60)) "${cmd[@]}" 2>"$TMP/$key.loadgen.err"); then
                R_STATUS[$key]="loadgen failed"
                fail_log "$TMP/$key.loadgen.err"
                FAILED=1
                return 0
        fi
        echo "$line" >"$TMP/$key.result"
        [[ -s $TMP/$key.loadgen.err ]] && sed 's/^/  /' "$TMP/$key.loadgen.err" >&2
        for kv in $line; do
                k=${kv%%=*} v=${kv#*=}
                case $k in
                rps) R_RPS[$key]=$v ;;
                p50_ms) R_P50[$key]=$v ;;
                p99_ms) R_P99[$key]=$v ;;
                errors) R_ERR[$key]=$v ;;
                non2xx) R_NON2XX[$key]=$v ;;
                esac
        done
        if [[ -z ${R_RPS[$key]:-} ]]; then
                R_STATUS[$key]="no result"
                FAILED=1
        elif [[ ${line} == requests=0\ * ]]; then
                R_STATUS[$key]="no response"
                FAILED=1
        else
                R_STATUS[$key]=ok
        fi
}

# probe KEY CURL_ARGS...: one request first, so a broken setup is named, not measured
probe() {
        local key=$1 code
        shift
        code=$(curl -s -o "$TMP/$key.probe" -w '%{http_code}' --max-time 10 "$@" 2>"$TMP/$key.probe.err" || true)
        if [[ $code == 200 ]]; then
                R_NOTE[$key]="probe 200, $(wc -c <"$TMP/$key.probe") bytes"
                return 0
        fi
        echo "$PROG: $key: probe answered '${code:-no response}': $(head -c 300 "$TMP/$key.probe" 2>/dev/null) $(cat "$TMP/$key.probe.err")" >&2
        R_NOTE[$key]="probe answered ${code:-nothing}"
        [[ -n $code && $code != 000 ]]
}

scenario_failed() {
        R_STATUS[$1]=$2
        FAILED=1
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
if ((RUN_XBUS)); then
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
        start xbusd "$TMP/xbusd.log" "$XBUSD_BIN" --config "$TMP/xbus/xbusd.conf"
        XBUSD_PID=$LAST_PID
        if wait_status xbusd "$XBUSD_PID" 60 200 -k "https://127.0.0.1:$PORT_HTTP/health"; then
                # the demo PKI's keys: adapters always authenticate (CURVE), on loopback too
                start adapter "$TMP/adapter.log" "$ADAPTER" --bus "tcp://127.0.0.1:$PORT_BUS" --data "$DATA" \
                        --people "$PEOPLE" --workers "$ADAPTER_WORKERS" \
                        --curve-server-key "$(cat "$PKI/node-curve.pub")" \
                        --curve-public-key "$(cat "$PKI/adapters/sample.pub")" \
                        --curve-secret-key-file "$PKI/adapters/sample.key"
                XBUS_CURL=(--cert "$PKI/clients/${CLIENT//\//_}.crt" --key "$PKI/clients/${CLIENT//\//_}.key"
                           --cacert "$PKI/ca.crt"
                           -H "X-Road-Client: $CLIENT" -H "X-Bus-Subject: $SUBJECT" -H "X-Bus-Purpose: $PURPOSE"
                           "https://127.0.0.1:$PORT_HTTP/r1/$SERVICE")
                # ready once the adapter has announced itself and an exchange succeeds
                if wait_status "xbusd + adapter" "$LAST_PID" 30 200 "${XBUS_CURL[@]}"; then
                        XBUS_OK=1
                else
                        fail_log "$TMP/xbusd.log"
                        fail_log "$TMP/adapter.log"
                        scenario_failed xbus "exchange not ready"
                fi
        else
                fail_log "$TMP/xbusd.log"
                scenario_failed xbus "xbusd not ready"
        fi
fi

# ---- (a) backend direct -------------------------------------------------------

if ((RUN_BACKEND)); then
        ORDER+=(backend)
        if probe backend "$BACKEND_URL"; then
                measure backend "$BACKEND_URL"
        else
                scenario_failed backend "probe failed"
        fi
fi

# ---- (b) nginx, TLS, proxying to the backend ---------------------------------

if ((RUN_NGINX)); then
        ORDER+=(nginx)
        NG=$TMP/nginx
        mkdir -p "$NG/tmp"
        if [[ -f $PKI/node.crt && -f $PKI/node.key ]]; then
                NGINX_CERT=$PKI/node.crt NGINX_KEY=$PKI/node.key NGINX_CA=$PKI/ca.crt
                R_NOTE[nginx_cert]="the xbus demo node certificate"
        else
                # without xbusd (--scenarios without xbus): a throwaway certificate, same key type
                NGINX_CERT=$NG/node.crt NGINX_KEY=$NG/node.key NGINX_CA=$NG/node.crt
                openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
                        -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
                        -keyout "$NGINX_KEY" -out "$NGINX_CERT" 2>"$NG/openssl.log"
                R_NOTE[nginx_cert]="a throwaway self-signed P-256 certificate (xbus scenario not run)"
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
        if wait_status nginx "$LAST_PID" 15 200 --cacert "$NGINX_CA" "$NGINX_URL" &&
           probe nginx --cacert "$NGINX_CA" "$NGINX_URL"; then
                measure nginx "$NGINX_URL" --cacert "$NGINX_CA"
        else
                fail_log "$NG/error.log"
                scenario_failed nginx "nginx not ready"
        fi
        # stop it so it takes no CPU from the next scenario
        stop_named nginx
fi

# ---- (c) xbus: the full mTLS exchange -----------------------------------------

if ((RUN_XBUS)); then
        ORDER+=(xbus)
        if ((XBUS_OK)) && probe xbus "${XBUS_CURL[@]}"; then
                measure xbus "https://127.0.0.1:$PORT_HTTP/r1/$SERVICE" \
                        --cert "$PKI/clients/${CLIENT//\//_}.crt" --key "$PKI/clients/${CLIENT//\//_}.key" \
                        --cacert "$PKI/ca.crt" \
                        -H "X-Road-Client: $CLIENT" -H "X-Bus-Subject: $SUBJECT" -H "X-Bus-Purpose: $PURPOSE"
        elif ((XBUS_OK)); then
                scenario_failed xbus "probe failed"
        fi
fi

# ---- report -------------------------------------------------------------------

cpu_model=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo 2>/dev/null | head -n 1)
label() {
        case $1 in
        backend) echo "backend (http, direct)" ;;
        nginx) echo "nginx (https proxy)" ;;
        xbus) echo "xbus (mTLS exchange)" ;;
        esac
}
ratio() {       # ratio A B: A/B with two decimals, "-" when unknown
        if [[ -n ${1:-} && -n ${2:-} ]] && awk -v b="$2" 'BEGIN { exit !(b > 0) }'; then
                awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'
        else
                echo "-"
        fi
}

echo
echo "xbus exchange benchmark ($(date -u +%Y-%m-%dT%H:%M:%SZ))"
echo "machine:  $(nproc) CPUs, ${cpu_model:-unknown CPU}, Linux $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "command:  $COMMAND_LINE"
echo "load:     closed loop, $CONNECTIONS keep-alive connections, $LOADGEN_THREADS loadgen thread(s), ${WARMUP}s warm-up + ${DURATION}s measured per scenario, on this same machine"
echo "request:  GET $SERVICE for subject $SUBJECT (client $CLIENT, purpose $PURPOSE)"
echo
printf '%-24s %10s %8s %8s %8s %8s %11s %11s  %s\n' scenario rps "p50 ms" "p99 ms" errors non2xx "rps/backend" "p99/backend" status
for key in "${ORDER[@]}"; do
        printf '%-24s %10s %8s %8s %8s %8s %11s %11s  %s\n' "$(label "$key")" \
                "${R_RPS[$key]:--}" "${R_P50[$key]:--}" "${R_P99[$key]:--}" \
                "${R_ERR[$key]:--}" "${R_NON2XX[$key]:--}" \
                "$(ratio "${R_RPS[$key]:-}" "${R_RPS[backend]:-}")" \
                "$(ratio "${R_P99[$key]:-}" "${R_P99[backend]:-}")" \
                "${R_STATUS[$key]:-not run}${R_NOTE[$key]:+ (${R_NOTE[$key]})}"
done
echo
if [[ ${R_STATUS[xbus]:-} == ok ]]; then
        if awk -v r="${R_RPS[xbus]}" -v p="${R_P99[xbus]}" -v e="${R_ERR[xbus]}" -v n="${R_NON2XX[xbus]}" \
                'BEGIN { exit !(r >= 10000 && p < 5 && e == 0 && n == 0) }'; then
                echo "target (>= 10000 full exchanges/s, p99 < 5 ms, no errors): met"
        else
                echo "target (>= 10000 full exchanges/s, p99 < 5 ms, no errors): NOT met"
        fi
fi
for key in "${ORDER[@]}"; do
        if [[ -n ${R_NON2XX[$key]:-} && ${R_NON2XX[$key]} != 0 ]] || [[ -n ${R_ERR[$key]:-} && ${R_ERR[$key]} != 0 ]]; then
                echo "warning: $key had errors or non-2xx answers: its rps and latencies do not describe successful requests"
        fi
done
[[ -n ${R_NOTE[nginx_cert]:-} ]] && echo "nginx certificate: ${R_NOTE[nginx_cert]}"
echo "loadgen commands:"
for key in "${ORDER[@]}"; do
        [[ -n ${R_CMD[$key]:-} ]] && echo "  $key: ${R_CMD[$key]}"
done
((KEEP)) && echo "raw results and logs: $TMP"

exit "$FAILED"
