#!/bin/bash
# The real CPU A/B (README.md, set 2) predicted by the engine: for each traced
# cell (latency x randread nj1 / randwrite nj4), the arrivals of a real capture
# are replayed open loop (pollsim validate) through legacy (QEMU 10.0: 32768/0/0),
# weighted w2 and w3 (QEMU 11.1: 32768/2/2/W) and no polling (poll-max-ns=0),
# each with its QEMU version's mechanisms (configs/validate/qemu-versions.yaml),
# and once more with none (DESIGN §3-7 only). Equal arrivals for every policy:
# the change is the CPU at equal work. Writes ab-model.md beside this script.
# Usage: results/real-qemu/ab-model.sh [POLLSIM]   (not run by CI; ~1 min)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
POLLSIM=${1:-$HERE/../../build/pollsim}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
LEGACY=(--policy legacy --iothread poll-max-ns=32768,poll-grow=0,poll-shrink=0)
NOPOLL=(--policy legacy --iothread poll-max-ns=0)
M10='mechanisms=[timer-completions,timer-notify]'
M11='mechanisms=[timer-completions,dispatch-poll-gate]'

cpu() {  # cpu LOG OUT ARGS...: simulated IOThread CPU of one replay
    local log=$1 out=$2; shift 2
    "$POLLSIM" validate --qemu-log "$log" "$@" --json "$out" > /dev/null || [ $? -eq 1 ]
}
for lat in 20 100 500; do
    for wl in randread-nj1 randwrite-nj4; do
        for src in qemu10.0-legacy-g0s0 qemu11.1-weighted-w3; do
            log=$HERE/traces/$src-lat${lat}us-$wl.log.xz
            for model in after before; do
                tag=$lat-$wl-$src-$model
                if [ $model = after ]; then m10=$M10; m11=$M11; else m10='mechanisms=[]'; m11='mechanisms=[]'; fi
                cpu "$log" "$TMP/$tag-legacy.json" "${LEGACY[@]}" --set "$m10"
                cpu "$log" "$TMP/$tag-nopoll.json" "${NOPOLL[@]}" --set "$m10"
                for w in 2 3; do
                    cpu "$log" "$TMP/$tag-w$w.json" --policy weighted \
                        --iothread poll-max-ns=32768,poll-grow=2,poll-shrink=2,poll-weight=$w --set "$m11"
                done
            done
        done
    done
done
python3 - "$TMP" "$HERE" <<'PY'
import json, re, sys
tmp, here = sys.argv[1], sys.argv[2]
real = {}
for line in open(f"{here}/README.md"):
    m = re.match(r"\| (\d+) µs \| (\w+) \| (\d) \| weighted-w(\d) \| ([+-][\d.]+) ± ([\d.]+) \|", line)
    if m:
        real[(m[1], m[2], m[3], m[4])] = (float(m[5]), float(m[6]))
def cpu(tag, pol):
    return json.load(open(f"{tmp}/{tag}-{pol}.json"))["simulated"]["iothread_cpu"]
out = ["# The real CPU A/B predicted by the engine", "",
       "Made by `results/real-qemu/ab-model.sh` (see its header). IOThread CPU change of weighted",
       "against legacy, in %: real = README.md's set 2 (8 reps, paired, mean ± 95 % interval, untraced",
       "closed-loop runs); model = the same arrivals (one traced capture) replayed through each policy,",
       "after = with each QEMU version's mechanisms, before = DESIGN §3-7 only. In brackets: the",
       "model's change against no polling.", "",
       "| lat | workload | W | real vs legacy | arrivals | model after | model before |",
       "|---|---|---|---|---|---|---|"]
inside = {"after": 0, "before": 0}; signs = {"after": 0, "before": 0}; n = 0
for lat in ("20", "100", "500"):
    for wl, rw, nj in (("randread-nj1", "randread", "1"), ("randwrite-nj4", "randwrite", "4")):
        for w in ("2", "3"):
            r, h = real[(lat, rw, nj, w)]
            for src, name in (("qemu10.0-legacy-g0s0", "10.0 legacy"), ("qemu11.1-weighted-w3", "11.1 w3")):
                cells = []
                for model in ("after", "before"):
                    tag = f"{lat}-{wl}-{src}-{model}"
                    l, x, nop = cpu(tag, "legacy"), cpu(tag, "w" + w), cpu(tag, "nopoll")
                    ch = 100 * (x - l) / l
                    inside[model] += abs(ch - r) <= h
                    signs[model] += (ch < 0) == (r < 0)
                    cells.append(f"{ch:+.1f} ({100 * (x - nop) / nop:+.1f})")
                n += 1
                out.append(f"| {lat} µs | {rw} nj{nj} | {w} | {r:+.1f} ± {h:.1f} | {name} | {cells[0]} | {cells[1]} |")
out += ["", f"Model change inside the real interval: after {inside['after']} of {n}, before {inside['before']} of {n}.",
        f"Same sign as the real mean: after {signs['after']} of {n}, before {signs['before']} of {n}.", ""]
open(f"{here}/ab-model.md", "w").write("\n".join(out))
print("\n".join(out))
PY
