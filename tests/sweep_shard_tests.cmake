# Issue 13, the README's GNU parallel recipe for real: a sweep run as 3
# shards under `parallel` and merged is byte for byte the single run, and a
# lost shard is named (exit 2). Included by cli_tests.cmake, whose POLLSIM,
# SRC, OUT, expect_exit and expect_match it uses.
find_program(PARALLEL parallel)
if(NOT PARALLEL)
  # Not skipped: this is the recipe CI promises to test. bash .ci/setup installs it.
  message(FATAL_ERROR "GNU parallel not found (apt-get install parallel); the sharded-sweep recipe is tested with it")
endif()

set(sweep configs/sweeps/poll-weight.yaml)  # 12 points; 100 ms each keeps the whole test to seconds
set(short --set duration=100ms --set warmup=10ms)
set(S ${OUT}/shards)

expect_exit(0 ${POLLSIM} sweep ${sweep} ${short} --out ${S}/single --plot -q)
expect_exit(0 ${PARALLEL} --will-cite --halt now,fail=1
            ${POLLSIM} sweep ${sweep} ${short} --shard {}/3 --out ${S}/shard-{} -j1 -q ::: 0 1 2)
expect_exit(0 ${POLLSIM} sweep merge ${sweep} ${S}/shard-0 ${S}/shard-1 ${S}/shard-2 ${short}
            --out ${S}/merged --plot -q)
foreach(f results.csv results.json tradeoff.svg poll-histogram.svg)
  expect_exit(0 cmp ${S}/single/${f} ${S}/merged/${f})
endforeach()

# Each point in exactly one shard, numbered as --list-points numbers them.
expect_exit(0 ${POLLSIM} sweep ${sweep} ${short} --list-points)
expect_match("${LAST_OUT}" "^0\t[0-9a-f]+\tworkload.rw=randread\tpolicy=legacy\t")
expect_match("${LAST_OUT}" "\n11\t[0-9a-f]+\tworkload.rw=randwrite\tpolicy=weighted\t.*poll-weight=5\n$")
expect_exit(0 ${POLLSIM} sweep ${sweep} ${short} --list-points --shard 1/3)
expect_match("${LAST_OUT}" "^1\t[^\n]*\n4\t[^\n]*\n7\t[^\n]*\n10\t[^\n]*\n$")

# A lost shard: named, with each of its points, exit 2 and nothing written.
file(REMOVE_RECURSE ${S}/shard-1)
expect_exit(2 ${POLLSIM} sweep merge ${sweep} ${S}/shard-0 ${S}/shard-2 ${short} --out ${S}/lost)
expect_match("${LAST_ERR}" "4 of 12 points missing")
expect_match("${LAST_ERR}" "shard 1/3 lost or unfinished: no shard-1-of-3\\.json in any directory, 4 of its 4 points missing")
expect_match("${LAST_ERR}" "point 7 \\(workload.rw=randwrite, policy=weighted, iothread.poll-grow=2, iothread.poll-shrink=2, iothread.poll-weight=1\\) missing: no points/[0-9a-f]+\\.json in any directory; shard 1/3 should have produced it")
if(EXISTS ${S}/lost/results.csv)
  message(FATAL_ERROR "a failed merge wrote ${S}/lost/results.csv")
endif()
# Merging with other --set than the shards ran is named, not just "missing".
expect_exit(2 ${POLLSIM} sweep merge ${sweep} ${S}/shard-0 ${S}/shard-2 --out ${S}/lost)
expect_match("${LAST_ERR}" "shard-0-of-3\\.json: point 0 has key [0-9a-f]+ there but [0-9a-f]+ here; merge with the sweep file and --set the shards ran with")

# --shard is checked before anything runs.
expect_exit(2 ${POLLSIM} sweep ${sweep} --shard 3/3)
expect_match("${LAST_ERR}" "--shard '3/3': expected I/N with 0 <= I < N and N >= 1")
expect_exit(2 ${POLLSIM} sweep ${sweep} --shard 0/2 --plot)
expect_match("${LAST_ERR}" "sweep merge --plot")
