#!/usr/bin/env bash
# One command for the GPU machine (no Node, npm or internet; run from the repository root with $OUT set):
#   scripts/gpu-check.sh [--backend webgpu|wasm] [--repeats N]
# Needs .gpu-carry/ from scripts/gpu-prepare.sh (the offline kit + Debian 12 Vulkan .debs). It unpacks the kit,
# sets up Vulkan, prints `info`, runs `bench --json` on the sample drive, checks that the chosen backend's
# maps on test1.jpg equal WASM's within 1e-4, and writes JSON and logs to $OUT. Every step has a timeout and
# the whole run stays under 8 minutes. On a CPU machine `--backend wasm` runs the same steps (the map check
# then compares WASM with itself: a check of the kit and the script, not of a GPU).
set -uo pipefail

backend=webgpu
repeats=7
while [ $# -gt 0 ]; do
  case $1 in
    --backend) backend=${2:-}; shift 2 ;;
    --repeats) repeats=${2:-}; shift 2 ;;
    *) echo "gpu-check: unknown argument $1 (use --backend webgpu|wasm, --repeats N)" >&2; exit 2 ;;
  esac
done
case $backend in webgpu | wasm) ;; *) echo "gpu-check: --backend must be webgpu or wasm" >&2; exit 2 ;; esac

repo=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-$repo/gpu-out}
mkdir -p "$OUT"
log="$OUT/gpu-check.log"
: >"$log"
start=$(date +%s)
budget=${GPU_CHECK_BUDGET_S:-470} # 8 minutes, less a margin for copying $OUT back
failed=0

say() { echo "[gpu-check +$(($(date +%s) - start))s] $*" | tee -a "$log"; }
left() { echo $((start + budget - $(date +%s))); }
# step NAME MAX_SECONDS CMD...: runs CMD with a timeout of min(MAX, time left), output to $OUT/NAME.log and
# to the terminal; records its exit status and time in steps.tsv.
step() {
  local name=$1 max=$2 t rc began
  shift 2
  t=$(left)
  [ "$t" -gt "$max" ] && t=$max
  if [ "$t" -le 5 ]; then
    say "$name: skipped (out of time)"
    printf '%s\t%s\t%s\n' "$name" skipped 0 >>"$OUT/steps.tsv"
    failed=1
    return 1
  fi
  say "$name (timeout ${t}s): $*"
  began=$(date +%s)
  # A pipeline, so the log is complete when the step returns (later steps read it).
  timeout -k 10 "$t" "$@" 2> >(tee "$OUT/$name.err" >&2) | tee "$OUT/$name.log"
  rc=${PIPESTATUS[0]}
  printf '%s\t%s\t%s\n' "$name" "$rc" "$(($(date +%s) - began))" >>"$OUT/steps.tsv"
  [ "$rc" -eq 124 ] && say "$name: timed out after ${t}s"
  [ "$rc" -ne 0 ] && { say "$name: exit $rc"; failed=1; }
  return "$rc"
}

: >"$OUT/steps.tsv"
archive=$(ls "$repo"/.gpu-carry/saliencam-*-linux-x64.tar.xz 2>/dev/null | head -1)
if [ -z "$archive" ]; then
  say "no kit in .gpu-carry/: run scripts/gpu-prepare.sh first (on a machine with npm)"
  exit 2
fi
work=${TMPDIR:-/tmp}/saliencam-gpu-check
rm -rf "$work" && mkdir -p "$work"
step unpack 120 tar -xJf "$archive" -C "$work" || exit 1
kit=$work/saliencam
node=$kit/runtime/node
sc=$kit/bin/saliencam

if [ "$backend" = webgpu ]; then
  # Vulkan loader + GL dispatch libraries that Dawn loads; the NVIDIA driver's own Vulkan ICD is on the machine.
  if ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1 '; then
    say "vulkan: loader already installed"
  elif [ "$(id -u)" = 0 ] && command -v dpkg >/dev/null; then
    for deb in "$repo"/.gpu-carry/debs/*.deb; do dpkg -x "$deb" / 2>>"$log" || say "vulkan: dpkg -x $deb failed"; done
    ldconfig
    say "vulkan: unpacked $(ls "$repo"/.gpu-carry/debs/*.deb | wc -l) packages onto /"
  else
    # Not root (or no dpkg): unpack into the work folder and point the dynamic loader there.
    mkdir -p "$work/vulkan"
    for deb in "$repo"/.gpu-carry/debs/*.deb; do
      if command -v dpkg >/dev/null; then dpkg -x "$deb" "$work/vulkan"; else (cd "$work/vulkan" && ar p "$deb" data.tar.xz | tar -xJ); fi
    done
    export LD_LIBRARY_PATH=$work/vulkan/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    say "vulkan: unpacked into $work/vulkan (LD_LIBRARY_PATH)"
  fi
fi

step info 90 "$sc" info
step info-json 90 "$sc" info --json >/dev/null
cp "$OUT/info-json.log" "$OUT/info.json" 2>/dev/null
chosen=$("$node" -e 'try { process.stdout.write(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).chosenBackend) } catch { }' "$OUT/info.json")
if [ "$backend" = webgpu ] && [ "$chosen" != webgpu ]; then
  icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  if [ -f "$icd" ]; then
    export VK_DRIVER_FILES=$icd
    say "webgpu not chosen by auto ($chosen): retrying with VK_DRIVER_FILES=$icd"
    step info-icd 90 "$sc" info
  else
    say "webgpu not chosen by auto ($chosen) and no $icd"
  fi
fi

# The map check first (it is short); the bench takes the rest of the time.
img=$kit/clips/test1.jpg
step explain-wasm 120 "$sc" explain "$img" --backend wasm --json "$OUT/explain-wasm.json" --maps "$OUT/maps-wasm.json"
if [ "$backend" != wasm ]; then
  step "explain-$backend" 150 "$sc" explain "$img" --backend "$backend" --json "$OUT/explain-$backend.json" --maps "$OUT/maps-$backend.json"
else
  # On a CPU machine: a second WASM run, so the comparison itself is exercised.
  step explain-wasm-again 120 "$sc" explain "$img" --backend wasm --json "$OUT/explain-wasm-again.json" --maps "$OUT/maps-wasm-again.json"
fi
other=$([ "$backend" = wasm ] && echo wasm-again || echo "$backend")
step compare 30 "$node" "$repo/scripts/compare-explain.mjs" "$OUT/explain-$other.json" "$OUT/explain-wasm.json" "$OUT/maps-$other.json" "$OUT/maps-wasm.json" --tol 1e-4

step bench 330 "$sc" bench --backend "$backend" --clip "$kit/clips/test_video.mp4" --repeats "$repeats" --json "$OUT/bench-$backend.json"

# Summary: the steps, what `info` said, and the check's verdict, in one JSON file.
"$node" - "$OUT" "$backend" "$failed" <<'JS' | tee -a "$log"
const fs = require('fs');
const [out, backend, failed] = process.argv.slice(2);
const read = (f) => { try { return JSON.parse(fs.readFileSync(`${out}/${f}`, 'utf8')); } catch { return null; } };
const steps = fs.readFileSync(`${out}/steps.tsv`, 'utf8').trim().split('\n').map((l) => { const [name, rc, seconds] = l.split('\t'); return { name, rc: rc === 'skipped' ? null : Number(rc), seconds: Number(seconds) }; });
const compareLog = (() => { try { return fs.readFileSync(`${out}/compare.log`, 'utf8').trim(); } catch { return ''; } })();
const summary = { backend, ok: failed === '0', steps, info: read('info.json'), mapsMatchWasm: compareLog.startsWith('match'), compare: compareLog, bench: read(`bench-${backend}.json`) };
fs.writeFileSync(`${out}/gpu-check.json`, `${JSON.stringify(summary, null, 2)}\n`);
console.log(`gpu-check: ${summary.ok ? 'ok' : 'FAILED'}; ${compareLog.split('\n')[0] || 'no map comparison'}; results in ${out}/gpu-check.json`);
JS
say "done in $(($(date +%s) - start))s"
exit "$failed"
