#!/usr/bin/env bash
# t-info.sh — `tlbench info` end to end: text, CSV (parsed back) and JSON (parsed by a JSON
# parser) on this machine and on fake sysfs trees (board, profile and sensors found), usage
# errors, and the power source each fixture board gets. $1 = build directory.
set -u
B=${1:-build}; T="$B/tlbench"
F=tests/fixtures/sysfs
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
ok() { echo "ok $1"; }
fail() { echo "FAIL $1: $2"; }

# value of a key in text output
val() { sed -n "s/^$2  *//p" "$1" | head -1; }

if "$T" info >"$tmp/text" 2>"$tmp/err"; then
    if grep -q '^cpus  *[1-9]' "$tmp/text" && grep -q '^kernel\.naive  *usable' "$tmp/text" &&
       grep -q '^power_source ' "$tmp/text" && grep -q '^counter_events ' "$tmp/text" &&
       grep -q '^profile ' "$tmp/text"; then ok info_text
    else fail info_text "missing keys: $(head -c 300 "$tmp/text")"; fi
else fail info_text "exit $?: $(head -c 200 "$tmp/err")"; fi

# the weights' layout a kernel asks for: avx512 names PANELS for the float types wider than
# 2048 on any AVX-512 CPU, and R16 for q8_0/q4_0 exactly when it has AVX512-VNNI (masked: no R16)
a512=$(val "$tmp/text" 'kernel\.avx512')
case $a512 in
usable*)
    masked=$(TLBENCH_CPU_MASK=avx512vnni "$T" info 2>/dev/null | sed -n 's/^kernel\.avx512  *//p')
    if [[ " $(val "$tmp/text" isa) " != *" avx512vnni "* ]]; then
        echo "skip info_names_layouts: no AVX512-VNNI here, so avx512 reads rows only"
    elif [[ $a512 == *"weights f32 panels (k > 2048), f16 panels (k > 2048), bf16 panels (k > 2048), q8_0 r16, q4_0 r16" ]] &&
        [[ $masked != *r16* && $masked == *"bf16 panels (k > 2048)" ]]; then ok info_names_layouts
    else fail info_names_layouts "with VNNI: '$a512'; masked: '$masked'"; fi ;;
*) echo "skip info_names_layouts: avx512 kernel not usable here ($a512)" ;;
esac

if ! command -v python3 >/dev/null; then
    echo "skip info_json_valid: python3 absent (needed to parse JSON and CSV)"
    echo "skip info_csv_parses: python3 absent"
else
    # JSON: a parser must accept it, and a board name with quotes/backslashes/controls survives
    mkdir -p "$tmp/odd" && cp -a "$F/vm-x86/." "$tmp/odd/"
    mkdir -p "$tmp/odd/proc/device-tree"
    printf 'Odd "board" \\ with\ttab\001 and \351 bad UTF-8\0' >"$tmp/odd/proc/device-tree/model"
    for root in "" "$F/rpi5" "$tmp/odd"; do
        args=(--format json); [ -n "$root" ] && args+=(--root "$root")
        name=info_json_valid${root:+_$(basename "$root")}
        if "$T" info "${args[@]}" >"$tmp/j" 2>"$tmp/err" &&
           python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert isinstance(d["cpus"], int); print(d["board"])' "$tmp/j" >"$tmp/board" 2>"$tmp/perr"; then
            ok "$name"
        else fail "$name" "$(head -c 300 "$tmp/perr" "$tmp/err")"; fi
    done
    grep -q 'Odd "board" \\ with' "$tmp/board" && ok info_json_escapes || fail info_json_escapes "board came back as: $(cat "$tmp/board")"
    # CSV: key,value rows that a CSV reader splits back into exactly two fields
    if "$T" info --format csv --root "$F/x86-server" >"$tmp/c" 2>"$tmp/err" &&
       python3 - "$tmp/c" >"$tmp/perr" 2>&1 <<'EOF'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline='')))
assert rows[0] == ['key', 'value'], rows[0]
assert all(len(r) == 2 for r in rows), [r for r in rows if len(r) != 2]
d = dict(rows[1:])
assert d['board'] == 'Dell Inc. PowerEdge R760', d['board']
assert d['profile'] == 'x86-avx512-server', d['profile']
assert d['power_source'] == 'rapl:package-0+package-1', d['power_source']
EOF
    then ok info_csv_parses; else fail info_csv_parses "$(head -c 300 "$tmp/perr" "$tmp/err")"; fi
fi

# Each fixture board: the profile it matches and the power source/scope it gets.
check_board() { # board profile power_source power_scope
    "$T" info --root "$F/$1" >"$tmp/b" 2>"$tmp/err"
    local p s c
    p=$(val "$tmp/b" profile); s=$(val "$tmp/b" power_source); c=$(val "$tmp/b" power_scope)
    if [ "$p" = "$2" ] && [ "$s" = "$3" ] && [ "$c" = "$4" ]; then ok "info_board_$1"
    else fail "info_board_$1" "profile '$p' power '$s' scope '$c' (wanted $2 / $3 / $4)"; fi
}
check_board rpi5 rpi5 "vcgencmd:pmic_read_adc:12 rails" board-pmic
check_board jetson-orin-nano jetson-orin-nano "ina3221:1-0040:VDD_IN" module
check_board jetson-ina3221x generic "ina3221x:7-0040:VDD_IN" module
check_board intel-ai-pc intel-ai-pc "rapl:package-0" package
check_board hwmon-energy generic "hwmon:amd_energy:Esocket0" hwmon
check_board vm-x86 x86-avx512-server none none

"$T" info --root "$F/rpi5" >"$tmp/pi" 2>&1
if grep -q '^throttle  *vcgencmd get_throttled' "$tmp/pi" && grep -q '^throttle_state  *0x0 (none)' "$tmp/pi" &&
   grep -q '^thermal\.thermal_zone0:cpu-thermal  *58.2 C' "$tmp/pi" && grep -q '^cpu_model  *4x Cortex-A76' "$tmp/pi"; then
    ok info_rpi5_sensors
else fail info_rpi5_sensors "$(grep -E '^(throttle|thermal|cpu_model)' "$tmp/pi" | head -c 400)"; fi

# --power-cmd wins over the board's own source; --profile forces a profile
"$T" info --root "$F/rpi5" --power-cmd "echo 6.5" >"$tmp/m" 2>&1
[ "$(val "$tmp/m" power_scope)" = wall ] && ok info_power_cmd || fail info_power_cmd "scope $(val "$tmp/m" power_scope)"
"$T" info --root "$F/rpi5" --profile generic >"$tmp/g" 2>&1
[ "$(val "$tmp/g" profile)" = generic ] && ok info_profile_forced || fail info_profile_forced "$(val "$tmp/g" profile)"

# usage errors: exit 2 with one line; a bad root or profile: exit 1
expect() { # name exit args...
    local name=$1 want=$2; shift 2
    "$T" info "$@" >"$tmp/o" 2>"$tmp/e"; local rc=$?
    if [ $rc -ne "$want" ]; then fail "$name" "exit $rc, wanted $want"
    elif [ "$(wc -l <"$tmp/e")" -ne 1 ]; then fail "$name" "stderr: $(head -c 300 "$tmp/e")"
    else ok "$name"; fi
}
expect info_bad_format 2 --format xml
expect info_extra_arg 2 stray
expect info_missing_root 1 --root "$tmp/no-such-dir"
expect info_unknown_profile 1 --profile no-such-board
"$T" info --help >"$tmp/h" 2>&1 && grep -q -- '--root DIR' "$tmp/h" && ok info_help || fail info_help "no --root in help"

# BLIS on an AVX-512 CPU: tlbench chooses the skx configuration when BLIS_ARCH_TYPE is unset
# and says so; TLBENCH_BLAS_CONFIG=library leaves the choice to BLIS; a user's value is kept
env -u BLIS_ARCH_TYPE "$T" info >"$tmp/b" 2>&1
blis=$(grep '^kernel\.blis ' "$tmp/b")
if ! grep -q '^isa .*avx512dq' "$tmp/b" || ! grep -q usable <<<"$blis"; then
    echo "skip info_blis_config: needs an AVX-512 CPU and a usable BLIS ($(head -c 120 <<<"$blis"))"
else
    lib=$(env -u BLIS_ARCH_TYPE TLBENCH_BLAS_CONFIG=library "$T" info 2>&1 | grep '^kernel\.blis ')
    user=$(BLIS_ARCH_TYPE=3 "$T" info 2>&1 | grep '^kernel\.blis ')
    if grep -q 'skx .*set by tlbench' <<<"$blis" && ! grep -q 'set by tlbench' <<<"$lib" &&
       grep -q 'BLIS_ARCH_TYPE=3)' <<<"$user" && ! grep -q 'set by tlbench' <<<"$user"; then
        ok info_blis_config
    else
        fail info_blis_config "auto: $blis | library: $lib | user: $user"
    fi
fi
