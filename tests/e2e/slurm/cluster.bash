# Sourced by the Slurm tests and bench.bash: a one-node Slurm cluster on
# 127.0.0.1 for this process only (private munge socket, ports, state).
#   start_slurm_cluster DIR   starts munged (as user munge), slurmctld and
#                             slurmd; exports SLURM_CONF; returns 1 with the
#                             daemons' logs on stderr if they do not come up
#   stop_slurm_cluster        stops them by PID (call it from an EXIT trap)
# Needs root, slurm-wlm and munge (scripts/install-deps.sh).

_slurm_pids=()
_slurm_mdir=""

stop_slurm_cluster() {
  local p
  for p in "${_slurm_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${_slurm_pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  _slurm_pids=()
  [ -z "$_slurm_mdir" ] || rm -rf "$_slurm_mdir"
  _slurm_mdir=""
}

_port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
_pick_port() {
  local p
  for _ in $(seq 100); do
    p=$((20000 + RANDOM % 30000))
    if _port_free "$p" && _port_free $((p + 1)); then echo "$p"; return 0; fi
  done
  echo "no free port" >&2
  return 1
}

start_slurm_cluster() {
  local S=$1 key sock port
  mkdir -p "$S/state" "$S/spool"
  # munged as user munge, on its own socket under /run/munge (munged
  # insists on a socket directory every user can search).
  mkdir -p /run/munge
  chown munge /run/munge
  chmod 755 /run/munge
  _slurm_mdir=/run/munge/grist-test.$$
  rm -rf "$_slurm_mdir"
  mkdir "$_slurm_mdir"
  chown munge "$_slurm_mdir"
  chmod 755 "$_slurm_mdir"
  key=/etc/munge/munge.key
  if [ ! -s "$key" ]; then
    key=$_slurm_mdir/munge.key
    dd if=/dev/urandom of="$key" bs=1024 count=1 2>/dev/null
    chown munge "$key"
    chmod 400 "$key"
  fi
  sock=$_slurm_mdir/munge.socket
  setpriv --reuid=munge --regid="$(id -g munge)" --init-groups \
    munged -F --socket="$sock" --key-file="$key" --pid-file="$_slurm_mdir/munged.pid" \
    --log-file="$_slurm_mdir/munged.log" --seed-file="$_slurm_mdir/munged.seed" \
    >"$S/munged.out" 2>&1 &
  _slurm_pids+=($!)
  for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
  if [ ! -S "$sock" ]; then
    echo "munged did not start:" >&2
    cat "$S/munged.out" >&2
    return 1
  fi

  port=$(_pick_port) || return 1
  cat >"$S/slurm.conf" <<EOF
ClusterName=gristtest
SlurmctldHost=localhost(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$sock
StateSaveLocation=$S/state
SlurmdSpoolDir=$S/spool
SlurmctldPidFile=$S/slurmctld.pid
SlurmdPidFile=$S/slurmd.pid
SlurmctldLogFile=$S/slurmctld.log
SlurmdLogFile=$S/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/builtin
# Start eligible batch jobs at once: the default batch_sched_delay=3 adds
# seconds between the stages of a small job.
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
MinJobAge=600
NodeName=localhost NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN
PartitionName=test Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
  export SLURM_CONF=$S/slurm.conf
  slurmctld -D -i -f "$SLURM_CONF" >"$S/slurmctld.out" 2>&1 &
  _slurm_pids+=($!)
  slurmd -D -N localhost -f "$SLURM_CONF" >"$S/slurmd.out" 2>&1 &
  _slurm_pids+=($!)
  for _ in $(seq 150); do
    if sinfo -h -o %T 2>/dev/null | grep -Eq '^(idle|mixed|allocated)'; then return 0; fi
    sleep 0.1
  done
  echo "Slurm did not come up:" >&2
  tail -20 "$S/slurmctld.log" "$S/slurmd.log" "$S/slurmctld.out" "$S/slurmd.out" >&2 || true
  return 1
}
