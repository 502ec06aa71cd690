#!/usr/bin/env bash
# The README's Slurm recipe on a real one-node Slurm (start-local-slurm.sh):
# the poll-weight sweep as a 3-task job array of configs/cluster/
# pollsim-sweep.sbatch plus a merge job that depends on it, compared byte for
# byte with the single run; then a sparse array, which the script refuses.
# Not part of ctest (README, "Sweeps on several machines", says why).
#   sudo tests/slurm/sbatch-recipe-test.sh [POLLSIM]   (default build/pollsim)
set -euo pipefail
cd "$(dirname "$0")/../.."
pollsim=$(realpath "${1:-build/pollsim}")
slurm_dir=/tmp/pollsim-slurm
bash tests/slurm/start-local-slurm.sh "$slurm_dir"
trap 'bash tests/slurm/start-local-slurm.sh stop "$slurm_dir"' EXIT
export SLURM_CONF=$slurm_dir/slurm.conf POLLSIM=$pollsim  # sbatch passes the environment on

sweep=configs/sweeps/poll-weight.yaml
short=(--set duration=100ms --set warmup=10ms)
out=$(mktemp -d /tmp/pollsim-sbatch.XXXXXX)
"$pollsim" sweep "$sweep" "${short[@]}" --out "$out/single" --plot -q

# The recipe: an array of shards, then a merge that waits for all of them.
jobid=$(sbatch --parsable --array=0-2 --output="$out/shard-%a.log" \
        configs/cluster/pollsim-sweep.sbatch "$sweep" "$out/runs" "${short[@]}")
echo "submitted job array $jobid (tasks 0-2)"
timeout 300 sbatch --wait --parsable --dependency="afterok:$jobid" --output="$out/merge.log" \
  --wrap "$pollsim sweep merge $sweep $out/runs/shard-* --out $out/runs --plot -q ${short[*]}" |
  sed 's/^/merge job /'
scontrol -o show job "$jobid" |
  awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^(JobId|ArrayTaskId|JobState|ExitCode|NodeList)=/) printf "%s ", $i; print "" }'
for f in "$out"/shard-*.log "$out/merge.log"; do echo "--- $(basename "$f")"; cat "$f"; done
for f in results.csv results.json tradeoff.svg poll-histogram.svg; do
  cmp "$out/single/$f" "$out/runs/$f"
  echo "cmp $f: identical to the single run"
done

# A sparse array would leave points in no shard: each task refuses (exit 2).
if timeout 120 sbatch --wait --array=1,2 --output="$out/sparse-%a.log" \
   configs/cluster/pollsim-sweep.sbatch "$sweep" "$out/sparse" "${short[@]}" >/dev/null; then
  echo "a sparse array was accepted" >&2
  exit 1
fi
grep -h "array must be 0-N-1" "$out"/sparse-*.log | head -1
echo "slurm recipe: OK ($out)"
