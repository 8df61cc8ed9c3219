#!/usr/bin/env bash
# bench/run.sh — `make bench`: measures whistle against the limits of this
# machine (issue 8). Prints one table and writes bench/results/latest.json.
#
#  1. dataset: `whistle demo --scale county` (and city when available),
#     cached in bench/data/ (git-ignored), copied for each run;
#  2. users and API tokens of different roles and scopes (CLI);
#  3. `whistle serve` on 127.0.0.1 at a free port;
#  4. ceilings: HTTP (GET /api/v1/ping) and storage (bench/storage_ceiling.c: the report
#     write path in-process, no HTTP);
#  5. workloads with wrk + bench/*.lua; each bounded in time. A workload
#     whose API or dataset does not exist yet says so in its row.
#
# Everything it starts is stopped on exit. Knobs (environment):
#   BENCH_BUILD=build  BENCH_DURATION=15 (s per workload)  BENCH_CONNECTIONS=64
#   BENCH_THREADS=2 (wrk threads)  BENCH_ONLY="ping dept …" (subset)
#   BENCH_CITY=auto|0|1 (city dataset: auto = when the demo generator makes orders)
#   BENCH_PROFILE=1 (perf record the server during each workload → bench/data/profiles)
#   BENCH_REGEN=1 (rebuild the cached datasets)
#   BENCH_KEEP=1 (keep the run's directory: server log, wrk output, tokens)
#   BENCH_DB_COPY=FILE (run on FILE, a copy of the dataset made beforehand, as
#     it is: for repeated experiments without copying the 24 GB city each time)
#   BENCH_WRAP="valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.%p"
#     (run the server under a wrapper: instruction counts per request do not
#     move with the machine's load; use few connections, e.g. BENCH_CONNECTIONS=4)
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH_DIR=$ROOT/bench
BUILD=${BENCH_BUILD:-$ROOT/build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
BIN=$BUILD/whistle
DUR=${BENCH_DURATION:-15}
CONNS=${BENCH_CONNECTIONS:-64}
THREADS=${BENCH_THREADS:-2}
ONLY=${BENCH_ONLY:-}
CITY=${BENCH_CITY:-auto}
PROFILE=${BENCH_PROFILE:-0}
DATA=$BENCH_DIR/data
RESULTS=$BENCH_DIR/results
RUN_ID=$(date +%s)
RUN=$DATA/run-$RUN_ID-$$
CLK_TCK=$(getconf CLK_TCK)
PAGE_KB=$(($(getconf PAGESIZE) / 1024))
export BENCH_DIR BENCH_RUN_ID=$RUN_ID

die() { echo "bench: $*" >&2; exit 1; }
say() { echo "bench: $*" >&2; }

[ -x "$BIN" ] || die "$BIN missing: run 'make build' (or set BENCH_BUILD)"
for t in wrk jq curl; do
	command -v $t >/dev/null || die "$t missing: run scripts/deps.sh"
done
mkdir -p "$DATA" "$RESULTS" "$RUN"
LOAD0=$(cut -d' ' -f1 /proc/loadavg)
awk -v l="$LOAD0" 'BEGIN {exit !(l > 1.0)}' &&
	say "WARNING: load average $LOAD0 before the run: other work shares these cores; figures will be low (see machine.load_before in the results)"

# ---- cleanup: stop everything this script started -----------------------
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		say "kept the run's files (server log, wrk output, tokens) in $RUN"
	else
		rm -rf "$RUN"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

want() { [ -z "$ONLY" ] || [[ " $ONLY " == *" $1 "* ]]; }

# ---- results ---------------------------------------------------------------
# Each row is one JSON object appended to $RUN/rows.jsonl.
row() { echo "$1" >>"$RUN/rows.jsonl"; }
row_na() { # name, what, reason
	row "$(jq -cn --arg n "$1" --arg w "$2" --arg r "$3" \
		'{workload:$n, what:$w, available:false, reason:$r}')"
	say "$1: not available yet: $3"
}

# ---- dataset -------------------------------------------------------------
# The cache is keyed by the binary's version line and schema: a binary
# with new migrations or a new demo generator regenerates it.
# A cached dataset is stamped with the schema version and a digest of the
# demo generator's source. A newer schema alone is an upgrade: the
# migrations run on it (`whistle init`), as on a county's live database,
# instead of generating the city's 10 million orders again. A changed
# generator means a new dataset.
stamp() { "$BIN" version; md5sum "$ROOT"/src/demo*.c 2>/dev/null | md5sum | cut -c1-12; }
dataset() { # scale → path of the cached db, or empty (with reason on stderr)
	local scale=$1 db=$DATA/$1.db
	if [ -f "$db" ] && [ "${BENCH_REGEN:-0}" != 1 ] && [ "$(cat "$db.stamp" 2>/dev/null)" = "$(stamp)" ]; then
		echo "$db"
		return
	fi
	if [ -f "$db" ] && [ "${BENCH_REGEN:-0}" != 1 ] &&
		[ "$(tail -1 "$db.stamp" 2>/dev/null)" = "$(stamp | tail -1)" ]; then
		say "upgrading the cached $scale dataset to $("$BIN" version) (whistle init: the new migrations) ..."
		local t0=$(date +%s)
		if "$BIN" init --db "$db" >"$RUN/upgrade-$scale.log" 2>&1; then
			stamp >"$db.stamp"
			say "$scale dataset upgraded in $(($(date +%s) - t0)) s"
			echo "$db"
			return
		fi
		say "upgrading failed ($(tail -1 "$RUN/upgrade-$scale.log")): generating it again"
	fi
	rm -f "$db" "$db-wal" "$db-shm" "$db.stamp" "$db.tmp" "$db.tmp-wal" "$db.tmp-shm"
	say "generating the $scale dataset (whistle demo --scale $scale) ..."
	[ "$scale" = city ] && say "the city (2 million people, 10 million orders) takes about 2 hours on 2 cores, once: it is cached in $DATA (BENCH_CITY=0 skips it)"
	local t0=$(date +%s)
	if ! "$BIN" demo --db "$db.tmp" --scale "$scale" >"$RUN/demo-$scale.log" 2>&1; then
		say "whistle demo --scale $scale failed: $(tail -1 "$RUN/demo-$scale.log")"
		rm -f "$db.tmp"*
		return
	fi
	mv "$db.tmp" "$db"
	# the registry's key file travels with its database (<db>.key)
	[ -f "$db.tmp.key" ] && mv "$db.tmp.key" "$db.key"
	rm -f "$db.tmp-wal" "$db.tmp-shm"
	stamp >"$db.stamp"
	say "$scale dataset ready in $(($(date +%s) - t0)) s ($(du -m "$db" | cut -f1) MB)"
	echo "$db"
}
sql() { sqlite3 -batch -noheader "$1" "$2" 2>/dev/null; }
has_table() { [ "$(sql "$1" "SELECT count(*) FROM sqlite_master WHERE name='$2'")" = 1 ]; }
count_rows() { has_table "$1" "$2" && sql "$1" "SELECT count(*) FROM $2" || echo 0; }

# ---- server ----------------------------------------------------------------
SERVER_PID=
PORT=
free_port() {
	local p
	for _ in $(seq 50); do
		p=$((20000 + RANDOM % 30000))
		(exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null || { echo $p; return; }
	done
	return 1
}
start_server() { # db
	local db=$1
	for _ in 1 2 3; do
		PORT=$(free_port) || die "no free port"
		# shellcheck disable=SC2086 # the wrapper is a command line
		${BENCH_WRAP:-} "$BIN" serve --db "$db" --listen "127.0.0.1:$PORT" --max-connections 2048 \
			2>>"$RUN/serve.log" &
		SERVER_PID=$!
		PIDS+=("$SERVER_PID")
		local tries=100
		[ -n "${BENCH_WRAP:-}" ] && tries=1200 # a wrapped server starts slowly
		for _ in $(seq $tries); do
			curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && return 0
			kill -0 "$SERVER_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill "$SERVER_PID" 2>/dev/null
		wait "$SERVER_PID" 2>/dev/null
	done
	die "whistle serve did not start: $(tail -3 "$RUN/serve.log")"
}
stop_server() {
	[ -n "$SERVER_PID" ] || return
	kill "$SERVER_PID" 2>/dev/null
	wait "$SERVER_PID" 2>/dev/null
	SERVER_PID=
}
proc_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
proc_hwm_mb() { awk '/VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$1/status" 2>/dev/null; }
proc_rss_mb() { awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$1/status" 2>/dev/null; }
reset_hwm() { echo 5 >"/proc/$1/clear_refs" 2>/dev/null; }
machine_busy() { awk '/^cpu / {print $2+$3+$4+$7+$8, $2+$3+$4+$5+$6+$7+$8}' /proc/stat; }
URL() { echo "http://127.0.0.1:$PORT$1"; }
# The writer's counters from /metrics: "jobs batches seconds".
writer_stats() {
	curl -s "$(URL /metrics)" | awk '/^whistle_db_write_jobs_total/ {j=$2} /^whistle_db_write_batches_total/ {b=$2}
		/^whistle_db_write_seconds_total/ {s=$2} END {print j+0, b+0, s+0}'
}

# Probes a route: 0 when the server knows it (any answer but 404/405 with
# "no such resource").
route_exists() { # method path [body]
	local code
	code=$(curl -s -o "$RUN/probe" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $ADMIN_TOKEN" \
		-H 'Content-Type: application/json' ${3:+-d "$3"} "$(URL "$2")")
	[ "$code" != 404 ] && [ "$code" != 405 ] && [ "$code" != 000 ] && return 0
	grep -q '"not_found"' "$RUN/probe" 2>/dev/null && ! grep -q 'no such resource' "$RUN/probe" && return 0
	return 1
}

# ---- wrk -------------------------------------------------------------------
# run_wrk NAME WHAT CONNS DURATION SCRIPT PATH [ceiling-name]
# Runs wrk against the server, samples the server's CPU and peak RSS, and
# appends a row.
run_wrk() {
	local name=$1 what=$2 conns=$3 dur=$4 script=$5 path=$6
	local threads=$THREADS
	[ "$conns" -lt "$threads" ] && threads=$conns
	say "$name: wrk -t$threads -c$conns -d${dur}s $path"
	reset_hwm "$SERVER_PID"
	local t0 m0 m1 t1 w0 w1 perf_pid=
	local ws0 ws1
	ws0=$(writer_stats)
	t0=$(proc_ticks "$SERVER_PID")
	m0=$(machine_busy)
	w0=$(date +%s.%N)
	if [ "$PROFILE" = 1 ] && command -v perf >/dev/null; then
		mkdir -p "$DATA/profiles"
		# system-wide: with -p, perf follows only the threads that exist when
		# it attaches, and the server starts a thread per new connection.
		# Read it with: perf report -i FILE --comm MHD-connection
		perf record -F 499 -e cpu-clock -g -a -o "$DATA/profiles/$name.perf" \
			-- sleep "$dur" >/dev/null 2>&1 &
		perf_pid=$!
		PIDS+=("$perf_pid")
	fi
	wrk -t"$threads" -c"$conns" -d"${dur}s" --timeout 10s -s "$BENCH_DIR/$script" "$(URL "$path")" \
		>"$RUN/wrk-$name.out" 2>&1
	w1=$(date +%s.%N)
	t1=$(proc_ticks "$SERVER_PID")
	m1=$(machine_busy)
	ws1=$(writer_stats)
	[ -n "$perf_pid" ] && wait "$perf_pid" 2>/dev/null
	local res
	res=$(sed -n 's/^BENCH_RESULT //p' "$RUN/wrk-$name.out" | tail -1)
	if [ -z "$res" ]; then
		row_na "$name" "$what" "wrk failed: $(tail -2 "$RUN/wrk-$name.out" | tr '\n' ' ')"
		return 1
	fi
	local cpu busy
	cpu=$(awk -v a="$t0" -v b="$t1" -v w0="$w0" -v w1="$w1" -v hz="$CLK_TCK" \
		'BEGIN {printf "%.1f", (b - a) / hz / (w1 - w0) * 100}')
	busy=$(echo "$m0 $m1" | awk '{printf "%.1f", ($3 - $1) / ($4 - $2) * 100}')
	# group commit: jobs per batch and the share of wall time the writer
	# thread spent inside batches (100% = the serial writer is the limit)
	local writer
	writer=$(echo "$ws0 $ws1 $w0 $w1" | awk '{j = $4 - $1; b = $5 - $2; s = $6 - $3;
		printf "{\"jobs\":%d,\"batches\":%d,\"jobs_per_batch\":%.1f,\"busy_pct\":%.1f}",
		j, b, b ? j / b : 0, s / ($8 - $7) * 100}')
	row "$(jq -c --arg n "$name" --arg w "$what" --argjson c "$conns" --argjson cpu "$cpu" \
		--argjson rss "$(proc_hwm_mb "$SERVER_PID")" --argjson busy "$busy" --arg ds "$DATASET" \
		--argjson wr "$writer" \
		'{workload:$n, what:$w, available:true, dataset:$ds, connections:$c} + . +
		 {server_cpu_pct:$cpu, peak_rss_mb:$rss, machine_busy_pct:$busy, writer:$wr}' <<<"$res")"
	echo "$res" | jq -r --arg n "$name" '"bench: \($n): \(.rps|floor) req/s p50 \(.p50_ms) ms p99 \(.p99_ms) ms"' >&2
}

# ---- setup -----------------------------------------------------------------
# The county dataset always; the city (10 million orders) when the demo
# generator makes orders (BENCH_CITY=auto) or when asked (BENCH_CITY=1).
# Every workload runs on the largest dataset there is; its row says which.
COUNTY_SRC=$(dataset county)
[ -n "$COUNTY_SRC" ] || die "no county dataset: see the message above"
SRC=$COUNTY_SRC
DATASET=county
CITY_NOTE=
if [ "$CITY" = 0 ]; then
	CITY_NOTE="skipped (BENCH_CITY=0)"
elif [ "$CITY" = auto ] && [ "$(count_rows "$COUNTY_SRC" orders)" = 0 ]; then
	CITY_NOTE="the demo generator makes no orders yet (issue 4 demo history)"
else
	CITY_SRC=$(dataset city)
	if [ -n "$CITY_SRC" ]; then
		SRC=$CITY_SRC
		DATASET=city
	else
		CITY_NOTE="whistle demo --scale city failed (see above)"
	fi
fi
export BENCH_DATASET=$DATASET
say "dataset: $DATASET ($(count_rows "$SRC" orders) orders, $(du -m "$SRC" | cut -f1) MB)"
if [ -n "${BENCH_DB_COPY:-}" ]; then
	# a copy made earlier, for repeated experiments (the city is 24 GB);
	# each run changes it: its figures are not for PERFORMANCE.md
	DB=$BENCH_DB_COPY
	[ -f "$DB" ] && [ -f "$DB.key" ] || die "BENCH_DB_COPY: $DB (and $DB.key) must be a copy of the $DATASET dataset"
	say "running on $DB as it is (BENCH_DB_COPY): not copied, and changed by this run"
else
	DB=$RUN/$DATASET.db
	cp --reflink=auto "$SRC" "$DB" || die "cannot copy the dataset"
	[ -f "$SRC.key" ] && cp "$SRC.key" "$DB.key"
	# The copy leaves gigabytes of dirty pages that the kernel writes back
	# for minutes, competing with every fsync of the workloads: written now.
	say "writing the copy to disk (sync)"
	sync
fi

ADMIN_PASS=bench-admin-$RUN_ID
# logins are new in every copy; a reused copy (BENCH_DB_COPY) has the last run's
USER_SUFFIX=${BENCH_DB_COPY:+-$RUN_ID}
ADMIN_LOGIN=benchadmin$USER_SUFFIX
export BENCH_ADMIN_PASS=$ADMIN_PASS
"$BIN" user add "$ADMIN_LOGIN" --role admin --name 压测管理员 --password-env BENCH_ADMIN_PASS \
	--db "$DB" >/dev/null || die "cannot create the bench admin"
# Tokens: `whistle token issue` (CLI); when the CLI cannot (see
# docs/PERFORMANCE.md), through the API as the bench admin.
ISSUE_VIA=cli
issue_token() { # login → token on stdout
	local out
	if [ "$ISSUE_VIA" = cli ] && out=$("$BIN" token issue "$1" --label bench --db "$DB" 2>/dev/null); then
		echo "${out##*: }"
		return 0
	fi
	ISSUE_VIA=api
	return 1
}
ADMIN_TOKEN=$(issue_token "$ADMIN_LOGIN") || ADMIN_TOKEN=
# Staff of different roles and scopes for (b): a handler per department,
# grid workers scoped to communities, dispatchers and leaders.
: >"$RUN/users.txt"
if want staff && has_table "$DB" orders; then
	n=0
	{
		sql "$DB" "SELECT 'department_handler', id, '' FROM departments ORDER BY id LIMIT 12"
		sql "$DB" "SELECT 'grid_worker', 0, code FROM grids WHERE depth = 2 AND status = 'active' ORDER BY id LIMIT 8"
		printf 'dispatcher|0|\ndispatcher|0|\nleader|0|\nleader|0|\n'
	} | while IFS='|' read -r role dept grid; do
		n=$((n + 1))
		login=bench-$role-$n$USER_SUFFIX
		args=(--role "$role")
		[ "$dept" != 0 ] && args+=(--scope-dept "$dept")
		[ -n "$grid" ] && args+=(--scope-grid "$grid")
		"$BIN" user add "$login" "${args[@]}" --password-env BENCH_ADMIN_PASS --db "$DB" >/dev/null 2>&1 || continue
		# the scope whose orders the user opens: a department's, a grid's, all
		scope=all
		[ "$dept" != 0 ] && scope=d$dept
		[ -n "$grid" ] && scope=g$grid
		echo "$login $role $dept $scope" >>"$RUN/users.txt"
	done
fi
start_server "$DB"
SERVE_RSS0=$(proc_rss_mb "$SERVER_PID")
api_login() { # → sets CSRF, cookie jar $RUN/cj
	CSRF=$(curl -s -c "$RUN/cj" -H 'Content-Type: application/json' \
		-d "{\"login\":\"$ADMIN_LOGIN\",\"password\":\"$ADMIN_PASS\"}" "$(URL /api/v1/auth/login)" | jq -r .csrf_token)
}
api_token() { # user id → token
	curl -s -b "$RUN/cj" -H "X-CSRF-Token: $CSRF" -H 'Content-Type: application/json' \
		-d "{\"user_id\":$1,\"label\":\"bench\"}" "$(URL /api/v1/tokens)" | jq -r '.token // empty'
}
if [ -z "$ADMIN_TOKEN" ]; then
	say "note: 'whistle token issue' failed; issuing tokens through POST /api/v1/tokens"
	api_login
	ADMIN_TOKEN=$(api_token "$(sql "$DB" "SELECT id FROM users WHERE login='$ADMIN_LOGIN'")")
	[ -n "$ADMIN_TOKEN" ] || die "cannot issue the bench admin token"
fi
export BENCH_TOKEN=$ADMIN_TOKEN
: >"$RUN/user-tokens.txt"
while read -r login role dept scope; do
	if tok=$(issue_token "$login"); then :; else
		[ -n "${CSRF:-}" ] || api_login
		tok=$(api_token "$(sql "$DB" "SELECT id FROM users WHERE login='$login'")")
	fi
	[ -n "$tok" ] && echo "$tok $role $dept $scope" >>"$RUN/user-tokens.txt"
done <"$RUN/users.txt"
export BENCH_USERS=$RUN/user-tokens.txt

# ---- ceilings ----------------------------------------------------------------
if want ping; then
	run_wrk http_ceiling "GET /api/v1/ping (no work): the HTTP ceiling" "$CONNS" "$DUR" ping.lua /api/v1/ping
fi
if want storage && [ -x "$BUILD/storage_ceiling" ]; then
	say "storage_ceiling: order_report() from $CONNS threads in-process (WAL, synchronous=FULL, group commit, no HTTP)"
	if "$BUILD/storage_ceiling" --db "$DB" --threads "$CONNS" --seconds "$(((DUR + 2) / 3))" --json >"$RUN/storage.json" 2>"$RUN/storage.err"; then
		row "$(jq -c '{workload:"storage_ceiling", what:"one report'"'"'s writes (order_report) from '"$CONNS"' threads in-process: group commit, no HTTP", available:true, dataset:"'"$DATASET"'"} + .' "$RUN/storage.json")"
	else
		row_na storage_ceiling "one report's writes in-process, no HTTP" "storage_ceiling failed: $(grep -v '^{"ts"' "$RUN/storage.err" | tail -1)"
	fi
elif want storage; then
	row_na storage_ceiling "one report's writes in-process, no HTTP" "$BUILD/storage_ceiling not built"
fi

# ---- foundation workloads (exist today) ------------------------------------
if want healthz; then
	run_wrk healthz "GET /healthz (pooled reader, one query)" "$CONNS" "$DUR" healthz.lua /healthz
fi

# ---- (a) report ingest ---------------------------------------------------------
if want ingest || want dashboard; then
	# Points inside the demo county's leaf grids (bounding-box centres).
	sql "$DB" "SELECT printf('%.6f,%.6f', (min_lat+max_lat)/2, (min_lng+max_lng)/2) FROM grids
	           WHERE status='active' AND min_lat IS NOT NULL AND id NOT IN
	           (SELECT parent_id FROM grids WHERE parent_id IS NOT NULL)" >"$RUN/points.txt" 2>/dev/null
	export BENCH_POINTS=$RUN/points.txt
	# Leaf categories of the current catalogue that name a department.
	if has_table "$DB" catalog_versions; then
		sql "$DB" "SELECT DISTINCT json_extract(c.value,'$.code') FROM catalog_versions v,
		           json_tree(v.body) c WHERE v.version=(SELECT max(version) FROM catalog_versions)
		           AND json_extract(c.value,'$.code') IS NOT NULL
		           AND json_extract(c.value,'$.dept') IS NOT NULL" >"$RUN/categories.txt" 2>/dev/null
	fi
	[ -s "$RUN/categories.txt" ] || jq -r '.. | objects | select(.dept? != null and .code? != null) | .code' \
		"$ROOT/data/catalog.json" >"$RUN/categories.txt" 2>/dev/null
	: >>"$RUN/categories.txt"
	export BENCH_CATEGORIES=$RUN/categories.txt
fi
INGEST_RPS=
if want ingest; then
	if ! route_exists POST /api/v1/reports '{}'; then
		row_na report_ingest "POST /api/v1/reports with a location, unique idempotency keys" \
			"POST /api/v1/reports is not in the route table (issue 4)"
	elif [ ! -s "$RUN/points.txt" ]; then
		row_na report_ingest "POST /api/v1/reports with a location" "the demo county has no grid geometry to locate in"
	else
		run_wrk report_ingest "POST /api/v1/reports with a location, unique idempotency keys" \
			"$CONNS" "$DUR" report_ingest.lua /api/v1/reports &&
			INGEST_RPS=$(tail -1 "$RUN/rows.jsonl" | jq .rps)
	fi
fi

# ---- (c) public tracking ---------------------------------------------------------
if want track; then
	if ! has_table "$DB" orders || [ "$(count_rows "$DB" orders)" = 0 ]; then
		row_na track "GET /api/v1/track/{code}" "the county dataset has no orders (demo history, issue 4)"
	elif ! route_exists GET /api/v1/track/XXXXXXXX; then
		row_na track "GET /api/v1/track/{code}" "GET /api/v1/track/{code} is not in the route table (issue 4)"
	else
		sql "$DB" "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r LIMIT 20000)
		           SELECT (SELECT code FROM orders WHERE id = abs(random()) % (SELECT max(id) FROM orders) + 1)
		           FROM r" | grep . >"$RUN/codes.txt"
		export BENCH_CODES=$RUN/codes.txt
		run_wrk track "GET /api/v1/track/{code}, random codes" "$CONNS" "$DUR" track.lua /api/v1/track
	fi
fi

# ---- (d) dashboard and monthly report while ingest runs ------------------------------
# Ingest at full concurrency in the background; in the foreground, with one
# connection each (latency, not throughput): the dashboard for half the
# time, then the monthly report for all departments.
MONTH=$(date -u +%Y-%m)
if want dashboard; then
	have_dash=0 have_month=0 have_ingest=0
	route_exists GET /api/v1/stats/dashboard && have_dash=1
	route_exists GET "/api/v1/reports/monthly?month=$MONTH" && have_month=1
	route_exists POST /api/v1/reports '{}' && [ -s "$RUN/points.txt" ] && have_ingest=1
	[ $have_dash = 1 ] || row_na dashboard_under_ingest "GET /api/v1/stats/dashboard while (a) runs" \
		"GET /api/v1/stats/dashboard is not in the route table (issue 5)"
	[ $have_month = 1 ] || row_na monthly_under_ingest "GET /api/v1/reports/monthly (all departments) while (a) runs" \
		"GET /api/v1/reports/monthly is not in the route table (issue 5)"
	if [ $have_ingest = 1 ] && { [ $have_dash = 1 ] || [ $have_month = 1 ]; }; then
		half=$(((DUR - 2) / 2))
		[ $half -lt 2 ] && half=2
		run_wrk ingest_during_reads "POST /api/v1/reports while the dashboard / monthly report run" \
			"$CONNS" $((2 * half + 2)) report_ingest.lua /api/v1/reports &
		ing=$!
		sleep 1
		[ $have_dash = 1 ] && run_wrk dashboard_under_ingest "GET /api/v1/stats/dashboard while (a) runs" \
			1 $half dashboard.lua /api/v1/stats/dashboard
		[ $have_month = 1 ] && run_wrk monthly_under_ingest "GET /api/v1/reports/monthly?month=$MONTH (all departments) while (a) runs" \
			1 $half monthly.lua "/api/v1/reports/monthly?month=$MONTH"
		wait $ing
	elif [ $have_ingest = 0 ]; then
		row_na ingest_during_reads "POST /api/v1/reports while the dashboard / monthly report run" \
			"POST /api/v1/reports is missing (issue 4)"
	fi
fi

# ---- (b) staff traffic -------------------------------------------------------
if want staff; then
	if ! route_exists GET /api/v1/orders; then
		row_na staff "70% queues, 20% details, 10% actions" "GET /api/v1/orders is not in the route table (issue 4)"
	elif [ "$(count_rows "$DB" orders)" = 0 ]; then
		row_na staff "70% queues, 20% details, 10% actions" "the dataset has no orders (demo history, issue 4)"
	else
		# The orders each user opens are orders of the user's own scope (a
		# detail page is opened from the user's queue), so the details are
		# answered 200, not 403 (75% of them were before this sample).
		sql "$DB" "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r LIMIT 20000)
		           SELECT 'all ' || (abs(random()) % (SELECT max(id) FROM orders) + 1) FROM r" >"$RUN/order-ids.txt"
		for scope in $(awk '{print $4}' "$RUN/users.txt" | sort -u); do
			case $scope in
			d*) sql "$DB" "SELECT '$scope ' || id FROM orders WHERE lead_dept_id = ${scope#d}
			               ORDER BY random() LIMIT 2000" >>"$RUN/order-ids.txt" ;;
			g*) sql "$DB" "SELECT '$scope ' || id FROM orders WHERE grid_code >= '${scope#g}'
			               AND grid_code < '${scope#g}:' ORDER BY random() LIMIT 2000" >>"$RUN/order-ids.txt" ;;
			esac
		done
		sql "$DB" "SELECT id || ' ' || lead_dept_id FROM orders WHERE state = 'dispatched'
		           AND lead_dept_id IS NOT NULL LIMIT 50000" >"$RUN/signable.txt"
		export BENCH_ORDER_IDS=$RUN/order-ids.txt BENCH_SIGNABLE=$RUN/signable.txt
		if [ ! -s "$BENCH_USERS" ]; then
			row_na staff "70% queues, 20% details, 10% actions" "could not create the staff users and tokens"
		else
			run_wrk staff "70% queue pages, 20% order details, 10% state actions, $(wc -l <"$BENCH_USERS") users" \
				"$CONNS" "$DUR" staff.lua /api/v1/orders
		fi
	fi
fi

# The smallest write, end to end. Last of the server workloads: it adds
# tens of thousands of departments, which would distort every later
# workload that lists or ranks departments (dashboard, monthly report).
if want dept; then
	run_wrk write_dept "POST /api/v1/departments, unique codes: group-commit write path" \
		"$CONNS" "$DUR" dept_create.lua /api/v1/departments
fi

stop_server

# ---- (e) locate in-process -----------------------------------------------------
# bench/locate_bench.c: builds 100 and 100,000 grids, locates random points
# in-process (back to back, and one at a time with the caches refilled in
# between, as inside a report), prints one JSON object with a case per size.
if want locate; then
	if [ -x "$BUILD/locate_bench" ]; then
		if timeout 300 "$BUILD/locate_bench" --dir "$RUN" --points 20000 --sizes 100,100000 \
			>"$RUN/locate.out" 2>"$RUN/locate.err" && grep -q '"cases"' "$RUN/locate.out"; then
			grep '"cases"' "$RUN/locate.out" | tail -1 | jq -c '.memory_ns_per_dependent_load as $mem | .cases[] |
				{workload:"locate_\(if .grids < 1000 then 100 else 100000 end)",
				 what:"locate in-process, \(.grids) grids", available:true, grids,
				 ns_per_point:.ns_per_locate, ns_per_point_min:.ns_per_locate_min,
				 ns_per_point_in_report:.ns_per_locate_in_report,
				 extra_memory_latencies, memory_ns_per_dependent_load:$mem,
				 index_build_ms, threaded_locates_per_s}' >>"$RUN/rows.jsonl"
		else
			row_na locate "locate in-process, 100 and 100,000 grids" \
				"locate_bench failed: $(tail -1 "$RUN/locate.err" "$RUN/locate.out" | tr '\n' ' ')"
		fi
	else
		row_na locate "locate in-process, 100 and 100,000 grids" "$BUILD/locate_bench not built (GRID helper)"
	fi
fi

# ---- (f) CSV import -------------------------------------------------------------
# One million people (bench/gen_people.awk, in the county's grids) imported
# with `whistle import people FILE` into a fresh copy of the county dataset
# (a second copy of the 24 GB city may not fit on the disk, and the people
# registry does not depend on the orders); wall time and peak RSS (VmHWM
# polled while it runs).
if want import; then
	IMPORT_N=${BENCH_IMPORT_ROWS:-1000000}
	if ! "$BIN" import --help >/dev/null 2>&1; then
		row_na import_people "whistle import people FILE, $IMPORT_N rows" \
			"'whistle import' does not exist yet (registry, issue 3)"
	else
		sql "$COUNTY_SRC" "SELECT code FROM grids WHERE status = 'active' AND id NOT IN
		            (SELECT parent_id FROM grids WHERE parent_id IS NOT NULL)" >"$RUN/grids.txt"
		awk -v N="$IMPORT_N" -v GRIDS="$RUN/grids.txt" -f "$BENCH_DIR/gen_people.awk" >"$RUN/people.csv"
		cp --reflink=auto "$COUNTY_SRC" "$RUN/import.db"
		cp "$COUNTY_SRC.key" "$RUN/import.db.key"
		sync # the copy's dirty pages would be written back during the import
		say "import_people: whistle import people ($IMPORT_N rows, $(du -m "$RUN/people.csv" | cut -f1) MB)"
		t0=$(date +%s.%N)
		"$BIN" import people "$RUN/people.csv" --db "$RUN/import.db" >"$RUN/import.out" 2>&1 &
		ipid=$!
		PIDS+=("$ipid")
		hwm=0 limit=${BENCH_IMPORT_TIMEOUT:-120} timed_out=0
		while kill -0 "$ipid" 2>/dev/null; do
			h=$(awk '/VmHWM/ {print $2}' "/proc/$ipid/status" 2>/dev/null)
			[ -n "$h" ] && [ "$h" -gt "$hwm" ] && hwm=$h
			if awk -v a="$t0" -v b="$(date +%s.%N)" -v l="$limit" 'BEGIN {exit !(b - a > l)}'; then
				timed_out=1
				kill "$ipid" 2>/dev/null
			fi
			sleep 0.2
		done
		wait "$ipid"
		irc=$?
		[ $timed_out = 1 ] && irc=124
		t1=$(date +%s.%N)
		if [ $irc = 0 ]; then
			row "$(jq -cn --argjson n "$IMPORT_N" --argjson s "$(echo "$t0 $t1" | awk '{print $2 - $1}')" \
				--argjson h "$hwm" --arg ds "$DATASET" \
				'{workload:"import_people", what:"whistle import people FILE, \($n) rows", available:true,
				  dataset:$ds, people:$n, seconds:$s, people_per_s:($n / $s), peak_rss_mb:($h / 1024)}')"
		elif [ $irc = 124 ]; then
			row_na import_people "whistle import people FILE, $IMPORT_N rows" \
				"did not finish within ${BENCH_IMPORT_TIMEOUT:-120} s (< $((IMPORT_N / ${BENCH_IMPORT_TIMEOUT:-120})) people/s; peak RSS $((hwm / 1024)) MB so far)"
		else
			row_na import_people "whistle import people FILE, $IMPORT_N rows" \
				"import failed (exit $irc): $(tail -1 "$RUN/import.out")"
		fi
		rm -f "$RUN/import.db"* "$RUN/people.csv"
	fi
fi

# ---- city scale ------------------------------------------------------------------
[ -n "$CITY_NOTE" ] && row_na city "city database (10 million orders) for (b), (d) and memory" "$CITY_NOTE"

# ---- report --------------------------------------------------------------------
machine=$(jq -n --arg cpu "$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)" \
	--argjson n "$(nproc)" --arg mem "$(awk '/MemTotal/ {printf "%.1f GB", $2/1048576}' /proc/meminfo)" \
	--arg k "$(uname -r)" --arg v "$("$BIN" version)" --arg c "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)" \
	--argjson l0 "$LOAD0" --argjson l1 "$(cut -d' ' -f1 /proc/loadavg)" \
	'{nproc:$n, cpu:$cpu, memory:$mem, kernel:$k, whistle:$v, commit:$c, load_before:$l0, load_after:$l1}')
jq -s --argjson m "$machine" --arg at "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --argjson dur "$DUR" \
	--argjson rss0 "${SERVE_RSS0:-0}" -f "$BENCH_DIR/report.jq" "$RUN/rows.jsonl" >"$RUN/result.json" ||
	die "cannot assemble the results"
cp "$RUN/result.json" "$RESULTS/latest.json"
mkdir -p "$DATA/history" && cp "$RUN/result.json" "$DATA/history/$(date -u +%Y%m%dT%H%M%SZ).json"
jq -r -f "$BENCH_DIR/table.jq" "$RESULTS/latest.json"
say "results: bench/results/latest.json"
