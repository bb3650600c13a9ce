#!/usr/bin/env bash
# A throw-away single-node Slurm cluster for tests, from Debian's slurm-wlm
# and munge (scripts/setup-deps.sh installs them).
#
#   slurm_cluster.sh start DIR   start munged, slurmctld and slurmd with all
#                                state under DIR; prints `export SLURM_CONF=...`
#                                lines to eval. Exit 77 (a component is
#                                missing) when not root or the programs are
#                                missing; exit 1 (the harness broke) when
#                                the daemons do not come up; the reason on
#                                stderr.
#   slurm_cluster.sh stop DIR    stops every daemon started for DIR.
#
# munged runs with its own random key and socket under DIR, so it does not
# touch a system munge; slurm.conf points at that socket.
set -euo pipefail
SKIP=77
cmd=${1:?start|stop}
dir=${2:?state folder}

skip() { echo "SKIP: $*" >&2; exit $SKIP; }
fail() { echo "FAIL: $*" >&2; exit 1; }

stop_daemons() {
  for f in slurmd slurmctld munged; do
    pidfile=$dir/$f.pid
    [[ -s $pidfile ]] || continue
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
  done
}

if [[ $cmd == stop ]]; then
  stop_daemons
  exit 0
fi

[[ $(id -u) -eq 0 ]] || skip "the Slurm test needs root (SlurmUser=root, munged key)"
for p in munged slurmctld slurmd sbatch squeue sinfo scontrol scancel; do
  command -v "$p" >/dev/null || skip "$p is not installed (scripts/setup-deps.sh installs slurm-wlm and munge)"
done

mkdir -p "$dir"/{state,spool,munge}
dir=$(cd "$dir" && pwd)
chmod 0700 "$dir/munge"
dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
chmod 0400 "$dir/munge/munge.key"
host=$(hostname -s)
cpus=$(nproc)
# Ports away from the defaults, picked per run, so a system Slurm is not disturbed.
base=$((20000 + RANDOM % 20000))

cat > "$dir/slurm.conf" <<CONF
ClusterName=fbtest
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$base
SlurmdPort=$((base + 1))
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.sock
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/builtin
MpiDefault=none
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MinJobAge=600
KillWait=5
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=$host CPUs=$cpus State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$dir/slurm.conf

trap 'stop_daemons' ERR
munged --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.sock" \
  --pid-file="$dir/munged.pid" --log-file="$dir/munged.log" --seed-file="$dir/munge/seed" \
  || { stop_daemons; fail "munged did not start: $(tail -3 "$dir/munged.log" 2>/dev/null)"; }
slurmctld -i >"$dir/slurmctld.out" 2>&1 \
  || { stop_daemons; fail "slurmctld did not start: $(tail -3 "$dir/slurmctld.log" 2>/dev/null)"; }
slurmd >"$dir/slurmd.out" 2>&1 \
  || { stop_daemons; fail "slurmd did not start: $(tail -3 "$dir/slurmd.log" 2>/dev/null)"; }
for _ in $(seq 150); do
  state=$(sinfo -h -n "$host" -o %t 2>/dev/null || true)
  [[ $state == idle ]] && break
  sleep 0.2
done
if [[ ${state:-} != idle ]]; then
  stop_daemons
  fail "the Slurm node did not become idle (state '${state:-none}'): $(tail -3 "$dir/slurmctld.log" 2>/dev/null)"
fi
echo "export SLURM_CONF=$dir/slurm.conf"
