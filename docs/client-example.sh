#!/bin/sh
# client-example.sh — a whistle API client in a page of shell (curl + jq):
# report a problem, follow it by its tracking code (查询码), read its
# timeline. The test suite runs it against a real server
# (tests/api/client_example.test.mjs), so what you read here works.
#
#   BASE_URL=http://127.0.0.1:8080 TOKEN=wt_… docs/client-example.sh
#   BASE_URL=http://127.0.0.1:8080 PHONE=13800001111 docs/client-example.sh   # anonymous
#
# TOKEN: an API token (an administrator issues it: `whistle token issue LOGIN`);
#        without one the report is anonymous and needs PHONE.
# CATEGORY: a category code of the event catalogue (default 0201 井盖缺失).
# LAT/LNG: where the problem is; or GRID: a grid code (default: the county).
set -eu

BASE_URL=${BASE_URL:-http://127.0.0.1:8080}
CATEGORY=${CATEGORY:-0201}
DESCRIPTION=${DESCRIPTION:-"幸福路口的井盖不见了，晚上很危险 (the manhole cover at the crossing is gone)"}
TMP=$(mktemp)
trap 'rm -f "$TMP"' EXIT

# api METHOD PATH [JSON] — prints the JSON answer; on an error prints
# whistle's {"error":{"code","message"}} and stops.
api() {
	set -- "$1" "$2" "${3:-}"
	status=$(curl -sS -o "$TMP" -w '%{http_code}' -X "$1" "$BASE_URL$2" \
		${TOKEN:+-H "Authorization: Bearer $TOKEN"} \
		-H 'Content-Type: application/json' ${IDEM:+-H "Idempotency-Key: $IDEM"} \
		${3:+--data-binary "$3"})
	if [ "$status" -ge 400 ]; then
		echo "error: $1 $2 → HTTP $status: $(jq -r '.error.code + ": " + .error.message' "$TMP")" >&2
		exit 1
	fi
	cat "$TMP"
}

# 1. The category, from the public catalogue.
name=$(api GET /api/v1/public/catalog |
	jq -r --arg c "$CATEGORY" '.categories[].children[]? | select(.code == $c) | .name')
[ -n "$name" ] || { echo "error: no category $CATEGORY in the catalogue" >&2; exit 1; }
echo "category: $CATEGORY $name"

# 2. Report it. The Idempotency-Key makes a retry return the same order.
if [ -z "${LAT:-}" ] && [ -z "${GRID:-}" ]; then
	GRID=$(api GET /api/v1/public/grids | jq -r '.items[0].code')
fi
body=$(jq -n --arg c "$CATEGORY" --arg d "$DESCRIPTION" --arg p "${PHONE:-}" \
	--arg g "${GRID:-}" --arg lat "${LAT:-}" --arg lng "${LNG:-}" '
	{category_code: $c, description: $d}
	+ (if $p != "" then {phone: $p} else {} end)
	+ (if $lat != "" then {lat: ($lat | tonumber), lng: ($lng | tonumber)} else {grid_code: $g} end)')
IDEM="example-$(date +%s)-$$"
report=$(api POST /api/v1/reports "$body")
code=$(echo "$report" | jq -r .code)
echo "tracking code: $code"
echo "state: $(echo "$report" | jq -r .state)"
IDEM=

# 3. Follow it by the tracking code (no login needed) and read the timeline.
track=$(TOKEN='' api GET "/api/v1/track/$code")
echo "$track" | jq -r '"now: \(.state_zh) — \(.status_text)" + (if .department then " (\(.department))" else "" end)'
echo "timeline:"
echo "$track" | jq -r '.timeline[] | "  \(.at)  \(.text)" + (if .dept_name then " · \(.dept_name)" else "" end)'
