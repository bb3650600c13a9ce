#!/usr/bin/env bash
# A throw-away single-node Slurm cluster for tests, from Debian's slurm-wlm
# and munge (scripts/setup-deps.sh installs them).
#
#   slurm_cluster.sh start DIR [NODES]
#                                start munged, slurmctld and slurmd with all
#                                state under DIR; prints `export SLURM_CONF=...`
#                                lines to eval. Exit 77 (a component is
#                                missing) when not root or the programs are
#                                missing; exit 1 (the harness broke) when
#                                the daemons do not come up; the reason on
#                                stderr.
#                                NODES > 1: that many nodes fbn1..fbnN of one
#                                CPU each, each slurmd in its own network
#                                namespace (`ip netns`), reached through a
#                                veth pair on a bridge that holds the
#                                controller's address: a cluster of separate
#                                hosts as Slurm sees them, sharing DIR's file
#                                system as a cluster shares its own. No
#                                namespaces (no `ip`, not permitted): exit 77.
#   slurm_cluster.sh kill-node DIR I
#                                SIGKILL every process of node fbnI (its
#                                slurmd, slurmstepd and the job's processes:
#                                all that runs in its namespace), as a lost
#                                Spot node loses them.
#   slurm_cluster.sh stop DIR    stops every daemon started for DIR and
#                                removes its namespaces and bridge.
#
# munged runs with its own random key and socket under DIR, so it does not
# touch a system munge; slurm.conf points at that socket.
set -euo pipefail
SKIP=77
cmd=${1:?start|stop|kill-node}
dir=${2:?state folder}
nodes=${3:-1}

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

# Multi-node: the namespaces' and bridge's names, one per line, in DIR/net.list.
stop_nodes() {
  [[ -s $dir/net.list ]] || return 0
  while read -r kind name _; do
    case $kind in
      ns)
        for pid in $(ip netns pids "$name" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
        ip netns del "$name" 2>/dev/null || true ;;
      link) ip link del "$name" 2>/dev/null || true ;;
    esac
  done <"$dir/net.list"
  rm -f "$dir/net.list"
}

if [[ $cmd == stop ]]; then
  for pidfile in "$dir"/slurmd-fbn*.pid; do
    [[ -s $pidfile ]] || continue
    pid=$(cat "$pidfile")
    kill -TERM "$pid" 2>/dev/null || true
    rm -f "$pidfile"
  done
  stop_daemons
  stop_nodes
  exit 0
fi
if [[ $cmd == kill-node ]]; then
  ns=$(awk -v want="fbn$3" '$1 == "ns" && $3 == want { print $2 }' "$dir/net.list")
  [[ -n $ns ]] || fail "no node fbn$3 in $dir/net.list"
  pids=$(ip netns pids "$ns")
  [[ -n $pids ]] || fail "node fbn$3 runs nothing"
  kill -KILL $pids
  echo "killed node fbn$3: $(wc -w <<<"$pids") processes"
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
ctl_host=$host
node_lines="NodeName=$host CPUs=$cpus State=UNKNOWN"
part_nodes=$host
node_sfx=""
spool_sfx=""
if ((nodes > 1)); then
  node_sfx=-%n
  spool_sfx=/%n
  command -v ip >/dev/null || skip "no ip(8): the multi-node cluster needs network namespaces (iproute2)"
  # A /24 of 10.231.0.0/16 and names unique to this run.
  tag=$((RANDOM % 250 + 1))
  net=10.231.$tag
  id=$$
  bridge=fbbr$id
  : >"$dir/net.list"
  if ! ip link add "$bridge" type bridge 2>"$dir/net.err"; then
    rm -f "$dir/net.list"
    skip "network namespaces cannot be made here: $(cat "$dir/net.err")"
  fi
  echo "link $bridge" >>"$dir/net.list"
  ip addr add "$net.1/24" dev "$bridge" && ip link set "$bridge" up || { stop_nodes; fail "bridge $bridge"; }
  node_lines=""
  part_nodes=""
  for i in $(seq "$nodes"); do
    ns=fbns$id-$i
    ip netns add "$ns" || { stop_nodes; fail "ip netns add $ns"; }
    echo "ns $ns fbn$i" >>"$dir/net.list"
    ip link add "fbh$id-$i" type veth peer name "fbv$id-$i" || { stop_nodes; fail "veth for $ns"; }
    echo "link fbh$id-$i" >>"$dir/net.list"
    ip link set "fbv$id-$i" netns "$ns" &&
      ip link set "fbh$id-$i" master "$bridge" && ip link set "fbh$id-$i" up &&
      ip -n "$ns" addr add "$net.$((10 + i))/24" dev "fbv$id-$i" &&
      ip -n "$ns" link set "fbv$id-$i" up && ip -n "$ns" link set lo up ||
      { stop_nodes; fail "addresses of $ns"; }
    node_lines+="NodeName=fbn$i NodeAddr=$net.$((10 + i)) NodeHostname=fbn$i CPUs=1 State=UNKNOWN"$'\n'
    part_nodes+=${part_nodes:+,}fbn$i
  done
  ctl_host="$host($net.1)"
fi

cat > "$dir/slurm.conf" <<CONF
ClusterName=fbtest
SlurmctldHost=$ctl_host
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$base
SlurmdPort=$((base + 1))
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.sock
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool$spool_sfx
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd$node_sfx.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd$node_sfx.log
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
$node_lines
PartitionName=test Nodes=$part_nodes Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$dir/slurm.conf

trap 'stop_daemons; stop_nodes' ERR
munged --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.sock" \
  --pid-file="$dir/munged.pid" --log-file="$dir/munged.log" --seed-file="$dir/munge/seed" \
  || { stop_daemons; fail "munged did not start: $(tail -3 "$dir/munged.log" 2>/dev/null)"; }
slurmctld -i >"$dir/slurmctld.out" 2>&1 \
  || { stop_daemons; fail "slurmctld did not start: $(tail -3 "$dir/slurmctld.log" 2>/dev/null)"; }
if ((nodes > 1)); then
  for i in $(seq "$nodes"); do
    mkdir -p "$dir/spool/fbn$i"
    # nsenter, not `ip netns exec`: that also mounts a fresh /sys, without the
    # cgroup file system slurmd needs.
    nsenter --net="/var/run/netns/fbns$id-$i" slurmd -N "fbn$i" >"$dir/slurmd-fbn$i.out" 2>&1 ||
      { stop_daemons; stop_nodes; fail "slurmd of fbn$i did not start: $(tail -3 "$dir/slurmd-fbn$i.log" 2>/dev/null)"; }
  done
else
  slurmd >"$dir/slurmd.out" 2>&1 \
    || { stop_daemons; fail "slurmd did not start: $(tail -3 "$dir/slurmd.log" 2>/dev/null)"; }
fi
want=$(printf 'idle%.0s\n' $(seq "$nodes"))
for _ in $(seq 150); do
  state=$(sinfo -h -N -p test -o %t 2>/dev/null || true)
  [[ $state == "${want%$'\n'}" ]] && break
  sleep 0.2
done
if [[ ${state:-} != "${want%$'\n'}" ]]; then
  stop_daemons
  stop_nodes
  fail "the Slurm nodes did not become idle (states '$(echo ${state:-none})'): $(tail -3 "$dir/slurmctld.log" 2>/dev/null)"
fi
echo "export SLURM_CONF=$dir/slurm.conf"
