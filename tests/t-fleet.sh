#!/usr/bin/env bash
# t-fleet.sh — `make fleet` end to end on this machine: fleet/inventory.local (a native x86
# board and an aarch64 board whose cross-built tlbench runs under qemu-aarch64, each with its
# own label) plus boards this test adds: one reached over real SSH (an sshd started here on
# 127.0.0.1, a free port, throwaway ed25519 keys, stopped on exit), one unreachable (a closed
# port on 127.0.0.1) and one whose sweep exits 1. Checks: every board's outcome in the fleet
# summary, the others finishing, the fetched files, one report showing the boards side by side
# with what differed between them, make's last line and exit status; then the same command
# again resumes (nothing re-run) while one board is busy with another sweep (its lock held).
# Everything lives in a temporary folder: no ~/.ssh, no system sshd configuration, traffic
# only to 127.0.0.1. Skips (saying why) without ansible-playbook, sshd or the cross build.
# Usage: t-fleet.sh BUILD_DIR
set -u
B=${1:-build}
ok() { echo "ok $1"; }
fail() { echo "FAIL $1: $2"; }

command -v ansible-playbook >/dev/null || { echo "skip fleet: ansible-playbook not installed (Debian: ansible; make deps)"; exit 0; }
SSHD=/usr/sbin/sshd
[ -x "$SSHD" ] && command -v ssh >/dev/null && command -v ssh-keygen >/dev/null \
    || { echo "skip fleet: sshd/ssh not installed (Debian: openssh-server openssh-client; make deps)"; exit 0; }
command -v qemu-aarch64 >/dev/null || { echo "skip fleet: qemu-aarch64 not installed (Debian: qemu-user)"; exit 0; }
command -v flock >/dev/null || { echo "skip fleet: flock not installed (util-linux)"; exit 0; }
[ -x "$B/tlbench" ] || { echo "skip fleet: $B/tlbench not built"; exit 0; }

tmp=$(mktemp -d)
sshd_pid=
cleanup() {
    [ -n "$sshd_pid" ] && kill "$sshd_pid" 2>/dev/null && wait "$sshd_pid" 2>/dev/null
    [ -n "${lock_pid:-}" ] && kill "$lock_pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

# The aarch64 tlbench (as tests/t-neon-qemu.sh builds it, which then finds it up to date), in
# a clean sub-make: make test's MAKEFLAGS and CFLAGS (e.g. sanitizer flags) must not leak in.
xbuild=${B%/}-aarch64
if ! out=$(env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES -u CFLAGS -u LDFLAGS -u OPT \
           make -s -j2 CROSS=aarch64-linux-gnu- BUILD="$xbuild" all 2>&1) || [ ! -x "$xbuild/tlbench" ]; then
    echo "skip fleet: no aarch64 tlbench ($xbuild/tlbench: needs gcc-aarch64-linux-gnu and libcsv-dev:arm64; make deps): $(tail -1 <<<"$out")"
    exit 0
fi

# ---- a throwaway sshd on 127.0.0.1 ----
mkdir -p "$tmp/ssh" "$tmp/home"
ssh-keygen -q -t ed25519 -N '' -f "$tmp/ssh/host_key" -C fleet-test-host
ssh-keygen -q -t ed25519 -N '' -f "$tmp/ssh/client_key" -C fleet-test-client
cp "$tmp/ssh/client_key.pub" "$tmp/ssh/authorized_keys"
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# sshd running as root needs its privilege separation folder (an empty runtime directory).
[ "$(id -u)" -ne 0 ] || [ -d /run/sshd ] || mkdir -p -m 0755 /run/sshd
for try in 1 2 3 4 5; do
    port=$(( 20000 + (RANDOM % 20000) ))
    port_free "$port" || continue
    cat >"$tmp/ssh/sshd_config" <<EOF
Port $port
ListenAddress 127.0.0.1
HostKey $tmp/ssh/host_key
PidFile $tmp/ssh/sshd.pid
AuthorizedKeysFile $tmp/ssh/authorized_keys
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
Subsystem sftp /usr/lib/openssh/sftp-server
LogLevel ERROR
EOF
    "$SSHD" -D -e -f "$tmp/ssh/sshd_config" 2>"$tmp/ssh/sshd.log" &
    sshd_pid=$!
    for _ in $(seq 50); do
        ! port_free "$port" && break
        kill -0 "$sshd_pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$sshd_pid" 2>/dev/null && ! port_free "$port"; then break; fi
    wait "$sshd_pid" 2>/dev/null; sshd_pid=
done
if [ -z "$sshd_pid" ]; then
    fail fleet_sshd "could not start a test sshd on 127.0.0.1: $(tail -2 "$tmp/ssh/sshd.log")"
    exit 1
fi
closed=$port
while ! port_free "$closed" || [ "$closed" = "$port" ]; do closed=$(( 20000 + (RANDOM % 20000) )); done
SSH_OPTS="-F /dev/null -o UserKnownHostsFile=$tmp/ssh/known_hosts -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=no -o IdentitiesOnly=yes -o IdentityAgent=none -o BatchMode=yes -o ConnectTimeout=5"
if ssh $SSH_OPTS -i "$tmp/ssh/client_key" -p "$port" "$(id -un)@127.0.0.1" true 2>"$tmp/ssh/ssh.err"; then
    ok fleet_sshd_login
else
    fail fleet_sshd_login "ssh to the test sshd failed: $(tail -2 "$tmp/ssh/ssh.err")"
    exit 1
fi

# ---- the boards this test adds to fleet/inventory.local ----
# x86-ssh: the native build reached through the test sshd; down: nothing listens there;
# x86-fails: every configuration's worker exits with an error (TLBENCH_FAULT), so the sweep
# exits 1.
SSH_VARS="ansible_connection=ssh ansible_host=127.0.0.1 ansible_user=$(id -un) ansible_ssh_private_key_file=$tmp/ssh/client_key ansible_ssh_common_args='$SSH_OPTS'"
cat >"$tmp/inventory.extra" <<EOF
[fleet]
x86-ssh   $SSH_VARS ansible_port=$port board_label=x86-ssh tlbench_prebuilt="{{ fleet_repo }}/{{ fleet_build }}/tlbench"
down      $SSH_VARS ansible_port=$closed board_label=down-board
x86-fails ansible_connection=local board_label=x86-fails tlbench_prebuilt="{{ fleet_repo }}/{{ fleet_build }}/tlbench" tlbench_env='{"TLBENCH_FAULT": "exit@1"}'
EOF

# Ansible keeps its own files under this HOME and (on the boards, which are this machine)
# under ansible_remote_tmp, which it would otherwise put in the user's real home (~user);
# no persistent SSH master is left behind.
fleet() {
    env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES HOME="$tmp/home" \
        ANSIBLE_LOCAL_TEMP="$tmp/ansible-local" ANSIBLE_SSH_ARGS="-o ControlMaster=no -o ControlPath=none" \
        make -s fleet BUILD="$B" INVENTORY="fleet/inventory.local $tmp/inventory.extra" \
        FLEET_RUN=t-fleet FLEET_DIR="$tmp/out" FLEET_REPORT="$tmp/report" REPORT_ARGS="--price x86-ssh=100" \
        FLEET_ARGS="-e fleet_boards_root=$tmp/boards -e fleet_build=$B -e ansible_remote_tmp=$tmp/ansible-remote" "$@" </dev/null
}
real_ssh="$(getent passwd "$(id -u)" | cut -d: -f6)/.ssh"
ssh_before=$(ls -la --time-style=+%s.%N "$real_ssh" 2>/dev/null)
ansible_before=$(ls -d "${real_ssh%/.ssh}"/.ansible* 2>/dev/null)
start=$(date +%s)
fleet >"$tmp/make.out" 2>"$tmp/make.err"; rc=$?
secs=$(( $(date +%s) - start ))
status() { grep -E "^[a-z]+ +$1 \(" "$tmp/out/fleet-summary.txt" 2>/dev/null | awk '{print $1}'; }
# rows of a results CSV with board_label $2 and status ok (python3's csv module: cells may
# hold quoted commas)
labelled_ok() {
    python3 -c 'import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
print(sum(r["board_label"] == sys.argv[2] and r["status"] == "ok" for r in rows))' "$1" "$2" 2>/dev/null || echo 0
}
# the value of key $2 in the JSON object of file $1 ("" when absent or not JSON)
json_key() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], ""))' "$1" "$2" 2>/dev/null; }

last=$(tail -n 1 "$tmp/make.out")
if [ "$last" = "summary: $tmp/report/summary.html" ] && [ -s "$tmp/report/summary.html" ]; then
    ok "fleet_make_prints_report_path_last (${secs}s)"
else fail fleet_make_prints_report_path_last "last line '$last': $(tail -15 "$tmp/make.out" "$tmp/make.err")"; fi
[ $rc -ne 0 ] && ok fleet_make_fails_when_a_board_fails || fail fleet_make_fails_when_a_board_fails "exit $rc"
got="$(status x86-local) $(status arm64-qemu) $(status x86-ssh) $(status down-board) $(status x86-fails)"
if [ "$got" = "ok ok ok unreachable failed" ]; then ok fleet_summary_every_board
else fail fleet_summary_every_board "statuses '$got': $(cat "$tmp/out/fleet-summary.txt" 2>/dev/null) $(tail -20 "$tmp/make.out")"; fi
grep -q '^failed .*x86-fails (x86-fails): sweep exited 1: ' "$tmp/out/fleet-summary.txt" \
    && ok fleet_failed_sweep_says_why || fail fleet_failed_sweep_says_why "$(grep x86-fails "$tmp/out/fleet-summary.txt")"

# fetched: info.json and results.csv per board, rows carrying the board's label
files_ok=1
for h in x86-local arm64-qemu x86-ssh; do
    csv="$tmp/out/$h/results.csv"; info="$tmp/out/$h/info.json"
    rows=$(labelled_ok "$csv" "$h")
    [ "$(json_key "$info" board_label)" = "$h" ] && [ "$rows" -eq 4 ] \
        || { files_ok=0; fail "fleet_fetched_$h" "$rows rows labelled $h and ok; files: $(ls "$tmp/out/$h" | tr '\n' ' ')"; }
done
[ $files_ok = 1 ] && ok fleet_fetched_info_and_results
[ "$(json_key "$tmp/out/arm64-qemu/info.json" arch)" = aarch64 ] && [ "$(json_key "$tmp/out/x86-local/info.json" arch)" = x86_64 ] \
    && ok fleet_aarch64_board_runs_aarch64 || fail fleet_aarch64_board_runs_aarch64 "$(grep '"arch"' "$tmp"/out/*/info.json | tr '\n' ' ')"
[ ! -e "$tmp/out/down/results.csv" ] && [ "$(json_key "$tmp/out/down/fleet.json" fleet_status)" = unreachable ] \
    && ok fleet_unreachable_recorded || fail fleet_unreachable_recorded "$(cat "$tmp/out/down/fleet.json" 2>&1)"

# one report: the boards side by side, what differed, the fleet run, the CPU-path caveat
md="$tmp/report/summary.md"
rep_ok=1
for lbl in x86-local arm64-qemu x86-ssh down-board; do grep -q "$lbl" "$md" || { rep_ok=0; fail fleet_report_names_boards "no '$lbl'"; }; done
[ $rep_ok = 1 ] && ok fleet_report_names_boards
grep -q '^# tlbench report: .*arm64-qemu.*x86-local' "$md" && grep -q '^| 1 | x86' "$md" \
    && ok fleet_report_ranks_boards || fail fleet_report_ranks_boards "$(grep -E '^# |^\| [12] \|' "$md")"
# tokens/s per USD for the board with a price (REPORT_ARGS reaches tlbench report)
grep -E '^\| [0-9]( \(tie\))? \| x86-ssh \|' "$md" | grep -qE '\| 100 USD \| [0-9.e+-]+ \|$' && ok fleet_report_per_usd \
    || fail fleet_report_per_usd "$(grep -E '^\| [0-9]( \(tie\))? \| x86-ssh' "$md")"
grep -q '^## What differed between the boards' "$md" && grep -q '^| Architecture | aarch64 | ' "$md" \
    && ok fleet_report_differences || fail fleet_report_differences "$(grep -A6 'What differed' "$md" | head -8)"
grep -q '^| down-board | down | unreachable |' "$md" && grep -q '^| x86-fails | x86-fails | failed | sweep exited 1' "$md" \
    && ok fleet_report_fleet_table || fail fleet_report_fleet_table "$(grep -A9 '^## Fleet run' "$md")"
grep -q 'measures the CPU path only' "$md" && ok fleet_report_cpu_path_caveat || fail fleet_report_cpu_path_caveat "no caveat"
# charts drawn with both local boards in them (gnuplot scripts carry the board labels)
n_both=0
for gp in "$tmp/report/charts/"*.gp; do
    grep -q "arm64-qemu" "$gp" && grep -q "x86-local" "$gp" && [ -s "${gp%.gp}.svg" ] && n_both=$((n_both + 1))
done
if command -v gnuplot >/dev/null; then
    [ "$n_both" -ge 4 ] && ok "fleet_report_charts_side_by_side ($n_both)" \
        || fail fleet_report_charts_side_by_side "$n_both charts show both boards"
else echo "skip fleet_report_charts_side_by_side: gnuplot not installed"; fi

# ---- the same command again, for three boards (BOARDS): resumes; a board whose lock is
# held reports busy ----
flock "$tmp/boards/x86-local/sweep.lock" sleep 600 &
lock_pid=$!
sleep 0.2
fleet BOARDS=x86-local,arm64-qemu,x86-ssh >"$tmp/make2.out" 2>"$tmp/make2.err"; rc=$?
kill "$lock_pid" 2>/dev/null; wait "$lock_pid" 2>/dev/null; lock_pid=
got="$(status x86-local) $(status arm64-qemu) $(status x86-ssh) $(status x86-fails)"
if [ "$got" = "busy ok ok " ] && grep -q ', 3 boards$' "$tmp/out/fleet-summary.txt" && grep -q "another sweep holds $tmp/boards/x86-local/sweep.lock" "$tmp/out/fleet-summary.txt"; then
    ok fleet_one_sweep_per_board
else fail fleet_one_sweep_per_board "statuses '$got': $(cat "$tmp/out/fleet-summary.txt")"; fi
resumed=1
for h in arm64-qemu x86-ssh; do
    grep -q -- '--resume: 4 of 4 configurations already in' "$tmp/boards/$h/runs/t-fleet/sweep.log" \
        && [ "$(labelled_ok "$tmp/out/$h/results.csv" "$h")" -eq 4 ] \
        && [ "$(wc -l <"$tmp/out/$h/results.csv")" -eq 5 ] \
        || { resumed=0; fail fleet_rerun_resumes "$h: $(tail -3 "$tmp/boards/$h/runs/t-fleet/sweep.log" | tr '\n' ' ')"; }
done
[ $resumed = 1 ] && ok fleet_rerun_resumes
[ "$(tail -n 1 "$tmp/make2.out")" = "summary: $tmp/report/summary.html" ] && ok fleet_rerun_report \
    || fail fleet_rerun_report "$(tail -5 "$tmp/make2.out")"

# nothing of ours left running, and nothing written to the real ~/.ssh
[ "$(ls -la --time-style=+%s.%N "$real_ssh" 2>/dev/null)" = "$ssh_before" ] && ok fleet_real_ssh_untouched \
    || fail fleet_real_ssh_untouched "$real_ssh changed"
[ "$(ls -d "${real_ssh%/.ssh}"/.ansible* 2>/dev/null)" = "$ansible_before" ] && ok fleet_real_home_untouched \
    || fail fleet_real_home_untouched "Ansible wrote into ${real_ssh%/.ssh}: $(ls -d "${real_ssh%/.ssh}"/.ansible*)"
sleep 0.5
left=$(pgrep -f "$tmp" | grep -v "^$sshd_pid\$" | grep -v "^$$\$")
[ -z "$left" ] && ok fleet_no_process_left || fail fleet_no_process_left "$(ps -o pid,args -p $left | tail -3)"
exit 0
