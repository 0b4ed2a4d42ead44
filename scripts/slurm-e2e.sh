#!/usr/bin/env bash
# End to end under a real scheduler: a one-node SLURM cluster on this machine runs a quick-suite sweep as a
# job array, one array task is killed with SIGKILL mid-run and requeued, the shards are merged, and the
# merged store must equal an unsharded run of the same sweep (same keys, every number equal on cpu).
#
#   sudo scripts/slurm-e2e.sh        # root: installs Debian's slurm-wlm and munge if missing
#
# Nothing outside a temporary folder is configured: munged gets its own key and socket, slurmctld and
# slurmd their own slurm.conf, ports, state and logs; all are stopped on exit. No systemd is needed.
# Environment: SLURM_E2E_SHARDS (default 3), SLURM_E2E_KEEP=1 keeps the folder, SLURM_E2E_TIMEOUT (s, 900).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
N=${SLURM_E2E_SHARDS:-3}
TIMEOUT=${SLURM_E2E_TIMEOUT:-900}
# A small part of the quick suite: 3 synthetic tasks x 5 optimizers x 1 seed = 15 runs of about 1-5 s on cpu.
TASKS=quadratic,linreg,rosenbrock
OPTIMIZERS=sgd@0.1,adam,sls,prodigy,dog
SEEDS=1
TOTAL=15
KILLED=1 # the array task that is killed and requeued
T0=$SECONDS

say() { echo "slurm-e2e [$((SECONDS - T0))s]: $*"; }
fail() {
  echo "slurm-e2e: FAILED: $*" >&2
  exit 1
}

if [ "$(id -u)" != 0 ]; then
  fail "needs root (it starts munged, slurmctld and slurmd); run: sudo $0"
fi
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
  say "installing Debian's slurm-wlm and munge (apt-get)"
  apt-get update -qq -o DPkg::Lock::Timeout=300
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=300 --no-install-recommends \
    slurm-wlm munge >/dev/null
fi
say "$(slurmctld -V), $(munged -V 2>&1 | awk '{print $1}' | head -1)"

WORK=$(mktemp -d /tmp/lrfree-slurm.XXXXXX)
chmod 700 "$WORK"
mkdir -p "$WORK/state" "$WORK/spool" "$WORK/out" "$WORK/pids"
PIDS=()
JOB=
cleanup() {
  local rc=$?
  # Jobs first (a failure may leave array tasks running), then the daemons.
  if [ -n "$JOB" ]; then
    scancel "$JOB" 2>/dev/null || true
    for _ in $(seq 50); do [ -z "$(squeue -h 2>/dev/null)" ] && break; sleep 0.2; done
  fi
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
  done
  if [ "$rc" != 0 ]; then
    for f in slurmctld.log slurmd.log munged.log; do
      [ -f "$WORK/$f" ] && { echo "--- tail of $f"; tail -n 30 "$WORK/$f"; }
    done
    for f in "$WORK"/out/*.out; do [ -f "$f" ] && { echo "--- $f"; tail -n 20 "$f"; }; done
  fi
  if [ "${SLURM_E2E_KEEP:-0}" = 1 ] || [ "$rc" != 0 ]; then
    echo "slurm-e2e: files kept in $WORK"
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Free loopback ports for slurmctld and slurmd (another cluster may use the defaults).
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
CTLD_PORT=$(free_port)
SLURMD_PORT=$(free_port)
while [ "$SLURMD_PORT" = "$CTLD_PORT" ]; do SLURMD_PORT=$(free_port); done

# munge: a fresh key and a private socket.
dd if=/dev/urandom of="$WORK/munge.key" bs=1024 count=1 status=none
chmod 600 "$WORK/munge.key"
munged --force --socket="$WORK/munge.sock" --key-file="$WORK/munge.key" --pid-file="$WORK/munged.pid" \
  --log-file="$WORK/munged.log" --seed-file="$WORK/munged.seed"
PIDS+=("$(cat "$WORK/munged.pid")")
munge -S "$WORK/munge.sock" -n </dev/null | unmunge -S "$WORK/munge.sock" >/dev/null || fail "munge does not work"

HOST=$(hostname -s)
CPUS=$(nproc)
export SLURM_CONF="$WORK/slurm.conf"
cat >"$SLURM_CONF" <<EOF
ClusterName=lrfree-e2e
SlurmctldHost=$HOST(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$WORK/munge.sock
StateSaveLocation=$WORK/state
SlurmdSpoolDir=$WORK/spool
SlurmctldPidFile=$WORK/slurmctld.pid
SlurmdPidFile=$WORK/slurmd.pid
SlurmctldLogFile=$WORK/slurmctld.log
SlurmdLogFile=$WORK/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MinJobAge=3600
JobRequeue=1
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$CPUS State=UNKNOWN
PartitionName=e2e Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF

slurmctld -i -f "$SLURM_CONF"
for _ in $(seq 100); do [ -s "$WORK/slurmctld.pid" ] && break; sleep 0.1; done
PIDS+=("$(cat "$WORK/slurmctld.pid")")
slurmd -f "$SLURM_CONF" -N "$HOST"
for _ in $(seq 100); do [ -s "$WORK/slurmd.pid" ] && break; sleep 0.1; done
PIDS+=("$(cat "$WORK/slurmd.pid")")
for _ in $(seq 300); do
  state=$(sinfo -h -n "$HOST" -o %T 2>/dev/null || true)
  [ "$state" = idle ] && break
  sleep 0.2
done
[ "$state" = idle ] || fail "node $HOST is '$state', not idle"
say "cluster up: slurmctld :$CTLD_PORT, slurmd :$SLURMD_PORT, node $HOST with $CPUS CPUs ($(sinfo -h -o '%P %a %D %T'))"

BENCH=(node --import tsx "$REPO/src/cli/main.ts" bench --suite quick --tasks "$TASKS" --optimizers "$OPTIMIZERS"
  --seeds "$SEEDS" --backend cpu --workers 0)

# The job array: task i runs shard i/N into its own store. `exec` makes the bench the job's process, so
# its pid (written first) is what gets killed.
cat >"$WORK/shard.sh" <<EOF
#!/usr/bin/env bash
set -euo pipefail
cd "$REPO"
echo "task \$SLURM_ARRAY_TASK_ID of job \$SLURM_ARRAY_JOB_ID on \$(hostname -s), restart \${SLURM_RESTART_COUNT:-0}"
echo \$\$ > "$WORK/pids/\$SLURM_ARRAY_TASK_ID"
exec ${BENCH[*]} --shard "\$SLURM_ARRAY_TASK_ID/$N" -o "$WORK/shard-\$SLURM_ARRAY_TASK_ID.jsonl"
EOF
chmod +x "$WORK/shard.sh"
JOB=$(sbatch --parsable --array=0-$((N - 1)) --cpus-per-task=1 --requeue --open-mode=append \
  --job-name=lrfree-sweep --output="$WORK/out/shard-%a.out" "$WORK/shard.sh")
say "submitted job array $JOB: --array=0-$((N - 1)), each 'lrfree bench --shard \$SLURM_ARRAY_TASK_ID/$N'"

job_state() { scontrol show job "${JOB}_$1" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | head -1 | cut -d= -f2; }
lines() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }

# Shard KILLED plans runs KILLED, KILLED+N, ...: kill it once it has stored a run and before its last.
PLANNED=$(((TOTAL - KILLED + N - 1) / N))
STORE="$WORK/shard-$KILLED.jsonl"
deadline=$((SECONDS + TIMEOUT))
while :; do
  done_runs=$(lines "$STORE")
  [ "$done_runs" -ge 1 ] && [ -s "$WORK/pids/$KILLED" ] && break
  [ "$SECONDS" -lt "$deadline" ] || fail "array task $KILLED stored no run in ${TIMEOUT}s (state $(job_state $KILLED))"
  sleep 0.1
done
PID=$(cat "$WORK/pids/$KILLED")
kill -KILL "$PID"
KILLED_AT=$(lines "$STORE")
[ "$KILLED_AT" -lt "$PLANNED" ] || fail "array task $KILLED finished its $PLANNED runs before it could be killed"
say "SIGKILL to array task ${JOB}_$KILLED (pid $PID) after $KILLED_AT of its $PLANNED runs"
for _ in $(seq 300); do
  st=$(job_state $KILLED)
  [ "$st" != RUNNING ] && [ "$st" != COMPLETING ] && break
  sleep 0.2
done
say "array task ${JOB}_$KILLED is $st after the kill"
[ "$st" = FAILED ] || fail "the killed task is '$st', not FAILED"
# slurmd revokes the killed instance's job credential with one-second resolution: a relaunch in that same
# second is refused ("Job credential revoked") and the requeued task fails at once. Wait until slurmd has
# finished the killed batch step, then into the next second, before requeueing.
RAW=$(scontrol show job "${JOB}_$KILLED" | grep -o 'JobId=[0-9]*' | head -n 1 | cut -d= -f2)
for _ in $(seq 100); do grep -q "\[$RAW.batch\] done with job" "$WORK/slurmd.log" && break; sleep 0.1; done
sleep 2
scontrol requeue "${JOB}_$KILLED"
# A requeued job waits out a begin time (about two minutes) before it is eligible; start it now.
scontrol update JobId="${JOB}_$KILLED" StartTime=now
say "scontrol requeue ${JOB}_$KILLED: $(job_state $KILLED)"

# Meanwhile the unsharded reference run, outside the scheduler.
say "unsharded reference run (${TOTAL} runs)"
"${BENCH[@]}" -o "$WORK/unsharded.jsonl" --report "$WORK/report-unsharded" >"$WORK/out/unsharded.out" 2>&1 ||
  fail "the unsharded run failed: $(tail -n 5 "$WORK/out/unsharded.out")"

while :; do
  states=$(for i in $(seq 0 $((N - 1))); do job_state "$i"; done | sort | uniq -c | tr -s ' \n' ' ')
  pending=0
  for i in $(seq 0 $((N - 1))); do
    case $(job_state "$i") in
    COMPLETED) ;;
    PENDING | RUNNING | COMPLETING | CONFIGURING | REQUEUED) pending=1 ;;
    *) fail "array task ${JOB}_$i ended $(job_state "$i")" ;;
    esac
  done
  [ "$pending" = 0 ] && break
  [ "$SECONDS" -lt "$deadline" ] || fail "the array did not finish in ${TIMEOUT}s:$states"
  sleep 1
done
RESTARTS=$(scontrol show job "${JOB}_$KILLED" | grep -o 'Restarts=[0-9]*' | cut -d= -f2)
say "all $N array tasks COMPLETED; task $KILLED restarted $RESTARTS time(s)"
[ "$RESTARTS" -ge 1 ] || fail "task $KILLED shows no restart"
grep -q "resuming: $KILLED_AT/$PLANNED runs already in" "$WORK/out/shard-$KILLED.out" ||
  fail "the requeued task did not resume from its $KILLED_AT stored runs (no 'resuming: $KILLED_AT/$PLANNED' in its output)"
for i in $(seq 0 $((N - 1))); do
  want=$(((TOTAL - i + N - 1) / N))
  got=$(lines "$WORK/shard-$i.jsonl")
  [ "$got" = "$want" ] || fail "shard $i stored $got runs, planned $want"
done

node --import tsx "$REPO/src/cli/main.ts" bench merge "$WORK"/shard-*.jsonl -o "$WORK/merged.jsonl" | tee "$WORK/out/merge.out"
grep -q duplicates "$WORK/out/merge.out" && fail "merge dropped duplicates: a run was stored twice"
node --import tsx "$REPO/scripts/compare-stores.ts" "$WORK/merged.jsonl" "$WORK/unsharded.jsonl"
say "OK: $N-task array with one task killed (SIGKILL) and requeued, merged = unsharded ($TOTAL runs)"
