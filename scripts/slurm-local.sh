#!/usr/bin/env bash
# slurm-local.sh: a private, single-node Slurm cluster on localhost, for the
# job-script tests and for trying jobs/ by hand. Needs root and Debian's
# slurmctld, slurmd, slurm-client and munge (scripts/setup.sh installs them).
#
#   scripts/slurm-local.sh up DIR     start munged, slurmctld and slurmd with
#                                     everything (config, key, sockets, state,
#                                     logs, pid files) inside DIR
#   scripts/slurm-local.sh down DIR   stop them (by their pid files) and leave
#                                     DIR's logs in place
#   scripts/slurm-local.sh env DIR    print `export SLURM_CONF=...` for eval
#
# How it works, and why (FIELD-NOTES.md, checked on Debian 12 / Slurm 22.05):
# no systemd here, so the daemons are started by hand. munged gets its own key
# and socket inside DIR (never the system's /etc/munge or /run/munge), so
# several private clusters, or a real one, can live on the same machine; the
# Slurm ports are picked at random among free ones for the same reason. The
# node line comes from `slurmd -C` with RealMemory lowered to 90 % (above the
# detected value the node is drained). No cgroups (task/none,
# proctrack/linuxproc), no database (jobs are kept 600 s for `scontrol show
# job`, end states also go to DIR/log/jobcomp.txt), short credential expiry
# and scheduling intervals so that `scontrol requeue` restarts in seconds.
# Every wait is bounded; `up` fails with the daemon's log tail if the node is
# not idle within 30 s, and stops whatever it started.
set -euo pipefail

die() {
  echo "slurm-local: $*" >&2
  exit 1
}

usage() {
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
}

[ $# -eq 2 ] || usage
cmd=$1
dir=$2
case "$dir" in /*) ;; *) dir="$(pwd)/$dir" ;; esac

# Stops the daemon whose pid file is $1: TERM, up to 10 s, then KILL.
stop_pidfile() {
  local f=$1 pid i
  [ -s "$f" ] || return 0
  pid=$(cat "$f")
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

# Ends what running jobs leave behind when the daemons stop: first asks
# Slurm to cancel every job (bounded wait), then kills any process still
# carrying this cluster's SLURM_CONF that is a job's task (SLURM_JOB_ID set)
# or a slurmstepd, never the caller or its parents.
stop_jobs() {
  local conf="$dir/etc/slurm.conf" p pid i keep=" $$ $PPID "
  if [ -s "$dir/run/slurmctld.pid" ] && kill -0 "$(cat "$dir/run/slurmctld.pid")" 2>/dev/null; then
    SLURM_CONF=$conf timeout 5 scancel --full --user=root >/dev/null 2>&1 || true
    for i in $(seq 1 50); do
      [ -z "$(SLURM_CONF=$conf timeout 5 squeue -h -t running,completing -o %i 2>/dev/null)" ] && break
      sleep 0.2
    done
  fi
  pid=$$
  while [ "$pid" -gt 1 ] 2>/dev/null; do
    keep="$keep$pid "
    pid=$(awk '{print $4}' "/proc/$pid/stat" 2>/dev/null || echo 1)
  done
  for p in /proc/[0-9]*; do
    pid=${p#/proc/}
    case "$keep" in *" $pid "*) continue ;; esac
    local env
    env=$({ tr '\0' '\n' <"$p/environ"; } 2>/dev/null) || continue
    grep -qx "SLURM_CONF=$conf" <<<"$env" || continue
    if grep -q '^SLURM_JOB_ID=' <<<"$env" || [ "$(cat "$p/comm" 2>/dev/null)" = slurmstepd ]; then
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
}

cmd_down() {
  [ -d "$dir" ] || return 0
  stop_jobs
  stop_pidfile "$dir/run/slurmd.pid"
  stop_pidfile "$dir/run/slurmctld.pid"
  stop_jobs
  stop_pidfile "$dir/munge-run/munged.pid"
}

# A TCP port nobody listens on (bash's /dev/tcp: a refused connect = free).
free_port() {
  local p i
  for i in $(seq 1 50); do
    p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return 0
    fi
  done
  die "no free TCP port found between 20000 and 60000"
}

write_conf() {
  local ctld_port=$1 d_port=$2 node mem cpus
  node=$(slurmd -C | head -n 1)
  cpus=$(sed -n 's/.* CPUs=\([0-9]*\).*/\1/p' <<<"$node")
  mem=$(sed -n 's/.* RealMemory=\([0-9]*\).*/\1/p' <<<"$node")
  [ -n "$cpus" ] && [ -n "$mem" ] || die "cannot read the node's CPUs and memory from 'slurmd -C': $node"
  node=$(sed -e 's/^NodeName=[^ ]*/NodeName=localhost NodeAddr=127.0.0.1/' -e "s/RealMemory=[0-9]*/RealMemory=$((mem * 9 / 10))/" \
    -e 's/ UpTime=.*//' <<<"$node")
  cat >"$dir/etc/slurm.conf" <<EOF
# Written by scripts/slurm-local.sh: a private single-node cluster.
ClusterName=segcast-local
SlurmctldHost=localhost
SlurmctldPort=$ctld_port
SlurmdPort=$d_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge-run/munge.socket,cred_expire=10
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool/slurmd-%n
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=pmix
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/log/jobcomp.txt
MailProg=/bin/true
ReturnToService=2
MinJobAge=600
KillWait=10
InactiveLimit=0
SchedulerParameters=bf_interval=2,sched_interval=2
$node State=UNKNOWN
PartitionName=local Nodes=localhost Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF
}

cmd_up() {
  [ "$(id -u)" = 0 ] || die "must run as root (the daemons run as root here)"
  local t
  for t in munged mungekey slurmctld slurmd sinfo; do
    command -v "$t" >/dev/null || [ -x "/usr/sbin/$t" ] || die "$t not found: run scripts/setup.sh (installs slurmctld slurmd slurm-client munge)"
  done
  [ -e "$dir/etc/slurm.conf" ] && [ -s "$dir/run/slurmctld.pid" ] && die "$dir already holds a running cluster: run '$0 down $dir' first"
  mkdir -p "$dir"/{etc,state,spool,run,log,munge,munge-run}
  chmod 755 "$dir"
  # munged is strict about its files: key, log and seed in a 0700 folder of
  # its own user, the socket in a folder everyone can traverse.
  chown munge:munge "$dir/munge" "$dir/munge-run"
  chmod 700 "$dir/munge"
  chmod 755 "$dir/munge-run"
  [ -s "$dir/munge/munge.key" ] || runuser -u munge -- /usr/sbin/mungekey --create --keyfile="$dir/munge/munge.key"
  runuser -u munge -- /usr/sbin/munged --socket="$dir/munge-run/munge.socket" --key-file="$dir/munge/munge.key" \
    --pid-file="$dir/munge-run/munged.pid" --log-file="$dir/munge/munged.log" --seed-file="$dir/munge/munged.seed" ||
    die "munged did not start: $(tail -n 3 "$dir/munge/munged.log" 2>/dev/null)"

  export SLURM_CONF="$dir/etc/slurm.conf"
  local attempt ok=0 i state=""
  for attempt in 1 2 3; do
    write_conf "$(free_port)" "$(free_port)"
    /usr/sbin/slurmctld -f "$SLURM_CONF" -i || true
    /usr/sbin/slurmd -f "$SLURM_CONF" -N localhost || true
    for i in $(seq 1 150); do # 30 s
      state=$(timeout 5 sinfo -h -N -o %T 2>/dev/null | head -n 1 || true)
      [ "$state" = idle ] && { ok=1; break; }
      # a daemon that died (port taken, bad config) will not come back: retry
      if [ "$i" -gt 10 ] && { ! kill -0 "$(cat "$dir/run/slurmctld.pid" 2>/dev/null || echo 0)" 2>/dev/null ||
        ! kill -0 "$(cat "$dir/run/slurmd.pid" 2>/dev/null || echo 0)" 2>/dev/null; }; then
        break
      fi
      sleep 0.2
    done
    [ "$ok" = 1 ] && break
    stop_pidfile "$dir/run/slurmd.pid"
    stop_pidfile "$dir/run/slurmctld.pid"
  done
  if [ "$ok" != 1 ]; then
    echo "slurm-local: the node did not become idle (state '${state}'); daemon logs:" >&2
    tail -n 15 "$dir/log/slurmctld.log" "$dir/log/slurmd.log" >&2 2>/dev/null || true
    cmd_down
    exit 1
  fi
  echo "slurm-local: cluster up in $dir (SLURM_CONF=$SLURM_CONF)"
}

case "$cmd" in
  up) cmd_up ;;
  down) cmd_down ;;
  env) echo "export SLURM_CONF=$dir/etc/slurm.conf" ;;
  *) usage ;;
esac
