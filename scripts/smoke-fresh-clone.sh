#!/usr/bin/env bash
# Proves the README's two commands on a fresh clone: `npm install && npm start`, with no other set-up.
#
# Clones the current HEAD into a temp dir, runs `npm install` there, then `npm start` with the
# defaults (embedded PostgreSQL in ./.batchlens, no DATABASE_URL), and checks: /healthz answers 200
# (timed), the admin token printed on stdout works for GraphQL, a deployment and a batch can be
# created, the dashboard is served at /, SIGTERM stops the server within 15 s leaving no postgres behind, and a restart keeps the
# data and prints no new token. Exits non-zero, saying why, on any failure.
set -euo pipefail

REPO=$(git -C "$(dirname "${BASH_SOURCE[0]}")" rev-parse --show-toplevel)
# The clone must use the embedded database and its default data dir, whatever the caller exports.
unset DATABASE_URL BATCHLENS_DATA_DIR BATCHLENS_BOOTSTRAP_TOKEN BATCHLENS_PG_PORT PGHOST PGPORT PGUSER PGDATABASE PGPASSWORD HOST

WORK=$(mktemp -d /tmp/batchlens-smoke.XXXXXX)
chmod 755 "$WORK" # the embedded Postgres runs as the postgres user and must reach its data dir
CLONE=$WORK/batchlens
SERVER_PID=""
PHASE=""

say() { printf '[smoke %(%H:%M:%S)T] %s\n' -1 "$*"; }
fail() {
  printf '[smoke] FAILED%s: %s\n' "${PHASE:+ ($PHASE)}" "$*" >&2
  if [[ -n $PHASE && -f $WORK/$PHASE.log ]]; then
    echo "--- server output ($PHASE) ---" >&2
    tail -n 40 "$WORK/$PHASE.log" >&2
  fi
  exit 1
}

postgres_pids() {
  # Postgres processes whose data directory is the clone's (the postmaster and its children show
  # the postmaster's command line only in the postmaster; children are found by parent).
  local pids
  pids=$(pgrep -f -- "-D $CLONE/.batchlens/pg" || true)
  local child
  for pid in $pids; do
    child=$(pgrep -P "$pid" || true)
    pids="$pids $child"
  done
  echo $pids
}

stop_server() {
  # SIGTERM to the whole process group (npm → sh → tsx → node → postgres), then wait.
  local pid=$1
  kill -TERM -- "-$pid" 2>/dev/null || return 0
  local deadline=$((SECONDS + 15))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL -- "-$pid" 2>/dev/null || true
    return 1
  fi
  # Stragglers of the group (e.g. a postgres that outlived its parent)?
  local deadline2=$((SECONDS + 5))
  while pgrep -g "$pid" >/dev/null 2>&1 && ((SECONDS < deadline2)); do sleep 0.1; done
  if pgrep -g "$pid" >/dev/null 2>&1; then
    echo "processes of the server's group still running after it exited:" >&2
    ps -o pid,ppid,args -g "$pid" >&2 || true
    kill -KILL -- "-$pid" 2>/dev/null || true
    return 1
  fi
  return 0
}

cleanup() {
  local rc=$?
  set +e
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM -- "-$SERVER_PID" 2>/dev/null
    for _ in $(seq 1 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$SERVER_PID" 2>/dev/null
  fi
  local left
  left=$(postgres_pids)
  [[ -n $left ]] && kill -KILL $left 2>/dev/null
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT

free_port() {
  node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close();})"
}

# POST a GraphQL document; prints the JSON answer. Args: url token query [variables-json]
graphql() {
  node -e '
    const [url, token, query, variables] = process.argv.slice(1);
    fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables: JSON.parse(variables || "{}") }),
    }).then(async (r) => {
      const text = await r.text();
      if (r.status !== 200) { console.error(`HTTP ${r.status}: ${text}`); process.exit(1); }
      console.log(text);
    }).catch((e) => { console.error(String(e)); process.exit(1); });
  ' "$1/graphql" "$2" "$3" "${4:-}"
}

# Evaluates a JS expression on parsed JSON (`d`) from stdin; prints the result, fails if falsy/undefined.
json_get() {
  node -e '
    let input = ""; process.stdin.on("data", (c) => (input += c)).on("end", () => {
      const d = JSON.parse(input);
      let v; try { v = eval(process.argv[1]); } catch { v = undefined; }
      if (v === undefined || v === null || v === false) { console.error(`not found: ${process.argv[1]} in ${input}`); process.exit(1); }
      console.log(typeof v === "string" ? v : JSON.stringify(v));
    });
  ' "$1"
}

# Starts `npm start` in its own process group; waits for /healthz; sets SERVER_PID, BASE, and
# prints the time to the first 200. Arg: phase name (log file name).
start_server() {
  PHASE=$1
  local port
  port=$(free_port)
  BASE="http://127.0.0.1:$port"
  local t0 now
  t0=$(date +%s.%N)
  (cd "$CLONE" && PORT=$port exec setsid npm start </dev/null >"$WORK/$PHASE.log" 2>&1) &
  SERVER_PID=$!
  local deadline=$((SECONDS + 180))
  while :; do
    if curl -fsS -o /dev/null --max-time 2 "$BASE/healthz" 2>/dev/null; then break; fi
    kill -0 "$SERVER_PID" 2>/dev/null || fail "npm start exited before /healthz answered"
    ((SECONDS < deadline)) || fail "/healthz did not answer 200 within 180 s"
    sleep 0.05
  done
  now=$(date +%s.%N)
  FIRST_RESPONSE=$(awk -v a="$t0" -v b="$now" 'BEGIN { printf "%.2f", b - a }')
  say "$PHASE: time to first response: $FIRST_RESPONSE s"
}

# The server's output of a phase, tokens masked.
show_log() {
  echo "--- server output ($1) ---"
  sed -E 's/bl_[A-Za-z0-9_-]{20,}/bl_<masked>/g' "$WORK/$1.log"
  echo "---"
}

# ---------------------------------------------------------------------------------------------

say "cloning $REPO (HEAD $(git -C "$REPO" rev-parse --short HEAD)) into $CLONE"
git clone --quiet --no-hardlinks "$REPO" "$CLONE" || fail "git clone"
[[ ! -e $CLONE/node_modules && ! -e $CLONE/.batchlens ]] || fail "the clone is not fresh"

say "npm install (in the clone)"
t_install=$SECONDS
(cd "$CLONE" && npm install --no-audit --no-fund </dev/null >"$WORK/npm-install.log" 2>&1) || {
  tail -n 40 "$WORK/npm-install.log" >&2
  fail "npm install"
}
say "npm install took $((SECONDS - t_install)) s"
[[ -f $CLONE/web/dist/index.html ]] || fail "npm install did not build the dashboard (web/dist/index.html missing)"

# --- first start: a fresh clone, no data dir ------------------------------------------------
start_server first-start
FIRST_START=$FIRST_RESPONSE
[[ -f $CLONE/.batchlens/pg/PG_VERSION ]] || fail "no embedded PostgreSQL data in ./.batchlens/pg"

TOKEN=$(grep -oE 'bl_[A-Za-z0-9_-]{20,}' "$WORK/first-start.log" | head -n 1 || true)
[[ -n $TOKEN ]] || fail "no admin token (bl_...) printed on stdout"
say "admin token printed on stdout: ${TOKEN:0:8}…"

viewer=$(graphql "$BASE" "$TOKEN" '{ viewer { name organization { name } } }') || fail "viewer query"
[[ $(json_get 'd.data.viewer.organization.name' <<<"$viewer") == default ]] || fail "viewer: $viewer"
[[ $(json_get 'd.data.viewer.name' <<<"$viewer") == admin ]] || fail "viewer: $viewer"
say "viewer: $viewer"

deployment=$(graphql "$BASE" "$TOKEN" 'mutation($input: CreateDeploymentInput!) { createDeployment(input: $input) { __typename ... on CreateDeploymentSuccess { deployment { id batchMonitoringEnabled } } } }' \
  '{"input":{"label":"smoke deployment","targetType":"REGRESSION","targetName":"y","batchMonitoringEnabled":true,"features":[{"name":"x","type":"NUMERIC","importance":1}]}}') ||
  fail "createDeployment"
DEPLOYMENT_ID=$(json_get 'd.data.createDeployment.deployment.id' <<<"$deployment") || fail "createDeployment: $deployment"

batch=$(graphql "$BASE" "$TOKEN" 'mutation($input: CreateMonitoringBatchInput!) { createMonitoringBatch(input: $input) { __typename ... on CreateMonitoringBatchSuccess { batch { id name } } } }' \
  "{\"input\":{\"deploymentId\":\"$DEPLOYMENT_ID\",\"name\":\"smoke batch\"}}") || fail "createMonitoringBatch"
BATCH_ID=$(json_get 'd.data.createMonitoringBatch.batch.id' <<<"$batch") || fail "createMonitoringBatch: $batch"
say "created deployment $DEPLOYMENT_ID and batch $BATCH_ID"

page=$(curl -fsS --max-time 5 "$BASE/") || fail "GET / (the dashboard)"
grep -q '<div id="app"></div>' <<<"$page" || fail "GET / did not answer the dashboard page: ${page:0:200}"
script=$(grep -oE 'src="/assets/[^"]+\.js"' <<<"$page" | head -n 1 | sed -E 's/src="([^"]+)"/\1/')
[[ -n $script ]] || fail "the dashboard page names no script"
curl -fsS --max-time 5 -o /dev/null "$BASE$script" || fail "GET $script (the dashboard's bundle)"
say "dashboard served at / with its bundle $script"

pg_before=$(postgres_pids)
[[ -n $pg_before ]] || fail "no postgres process for $CLONE/.batchlens/pg while the server runs"

say "SIGTERM to the npm process group"
t_stop=$SECONDS
stop_server "$SERVER_PID" || fail "the server did not exit cleanly within 15 s of SIGTERM"
say "stopped in $((SECONDS - t_stop)) s"
wait "$SERVER_PID" 2>/dev/null || true
SERVER_PID=""
left=$(postgres_pids)
[[ -z $left ]] || { ps -o pid,args -p ${left// /,} >&2 || true; fail "postgres still running for $CLONE/.batchlens/pg after shutdown"; }
[[ ! -f $CLONE/.batchlens/pg/postmaster.pid ]] || fail "postmaster.pid left behind (postgres not shut down cleanly)"
grep -q 'SIGTERM received' "$WORK/first-start.log" || fail "the server did not log its shutdown"
show_log first-start

# --- restart: same data dir -----------------------------------------------------------------
start_server restart
RESTART=$FIRST_RESPONSE
if grep -qE 'bl_[A-Za-z0-9_-]{20,}' "$WORK/restart.log"; then fail "a new token was printed on restart"; fi

again=$(graphql "$BASE" "$TOKEN" 'query($id: ID!) { monitoringBatch(id: $id) { id name deployment { id } } }' "{\"id\":\"$BATCH_ID\"}") ||
  fail "monitoringBatch after restart"
[[ $(json_get 'd.data.monitoringBatch.name' <<<"$again") == "smoke batch" ]] || fail "batch lost on restart: $again"
say "after restart the batch is still there: $again"

stop_server "$SERVER_PID" || fail "the restarted server did not exit cleanly within 15 s of SIGTERM"
wait "$SERVER_PID" 2>/dev/null || true
SERVER_PID=""
left=$(postgres_pids)
[[ -z $left ]] || fail "postgres still running after the second shutdown"
show_log restart
PHASE=""

say "time to first response: $FIRST_START s (first start on a fresh clone, includes initdb)"
say "time to first response: $RESTART s (restart)"
say "smoke test passed"
