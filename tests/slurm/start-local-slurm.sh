#!/usr/bin/env bash
# A one-node Slurm cluster on localhost for testing configs/cluster/*.sbatch
# (issue 13). Everything lives in DIR (default /tmp/pollsim-slurm): its own
# munge key and socket, slurm.conf on ports 16817/16818, state and logs, so
# a system munge or Slurm is neither used nor disturbed.
#   tests/slurm/start-local-slurm.sh [DIR]        start munged, slurmctld, slurmd; wait
#                                                 for the node; print the SLURM_CONF line
#   tests/slurm/start-local-slurm.sh stop [DIR]   stop the daemons this script started
# Needs Debian's slurm-wlm and munge (apt-get install slurm-wlm munge) and
# root, as slurmd starts jobs as their owner.
set -euo pipefail

stop=0
if [ "${1:-}" = stop ]; then stop=1; shift; fi
dir=$(realpath -m "${1:-/tmp/pollsim-slurm}")

# Only the daemons whose pid files are in DIR: never anyone else's.
stop_daemons() {
  for d in slurmd slurmctld munged; do
    [ -f "$dir/$d.pid" ] || continue
    pid=$(cat "$dir/$d.pid")
    if kill "$pid" 2>/dev/null; then
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$dir/$d.pid"
  done
}
if [ "$stop" = 1 ]; then stop_daemons; echo "local slurm in $dir stopped"; exit 0; fi

for tool in munged slurmctld slurmd sinfo; do
  command -v "$tool" >/dev/null || { echo "$0: $tool not found: apt-get install slurm-wlm munge" >&2; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "$0: needs root (slurmd runs jobs as their owner)" >&2; exit 2; }
stop_daemons  # a previous run's, if any
rm -rf "$dir"
mkdir -p "$dir/ctld" "$dir/spool"
chmod 755 "$dir"  # munged wants its socket reachable by all

# munge: a fresh key, a private socket.
dd if=/dev/urandom of="$dir/munge.key" bs=1024 count=1 status=none
chmod 400 "$dir/munge.key"
munged --key-file="$dir/munge.key" --socket="$dir/munge.socket" --pid-file="$dir/munged.pid" \
       --log-file="$dir/munged.log" --seed-file="$dir/munged.seed"

# The controller must be named as this host calls itself; the one compute
# node is "localhost" (slurmd -N), both at 127.0.0.1.
user=$(id -un)
cat > "$dir/slurm.conf" <<CONF
ClusterName=pollsim-local
SlurmctldHost=$(hostname -s)(127.0.0.1)
SlurmUser=$user
SlurmdUser=$user
SlurmctldPort=16817
SlurmdPort=16818
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge.socket
StateSaveLocation=$dir/ctld
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
# No cgroups: the test may run in a container without them.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SwitchType=switch/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
# A merge whose shards failed is cancelled, not left pending forever.
DependencyParameters=kill_invalid_depend
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=local Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$dir/slurm.conf

slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF" -N localhost

# Up when the node takes jobs (idle); a minute is plenty on localhost.
for _ in $(seq 120); do
  state=$(sinfo -h -n localhost -o %T 2>/dev/null || true)
  if [ "$state" = idle ]; then
    echo "local slurm up in $dir; use it with: export SLURM_CONF=$SLURM_CONF"
    exit 0
  fi
  sleep 0.5
done
echo "$0: node not idle after 60 s (state '${state:-none}'); logs:" >&2
tail -n 20 "$dir/slurmctld.log" "$dir/slurmd.log" "$dir/munged.log" >&2 || true
stop_daemons
exit 1
