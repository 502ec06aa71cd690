# Runs the real pollsim binary and checks exit codes and outputs.
# Invoked by CTest: cmake -DPOLLSIM=... -DSRC=... -DOUT=... -P cli_tests.cmake
file(REMOVE_RECURSE ${OUT})
file(MAKE_DIRECTORY ${OUT})

function(expect_exit code)
  execute_process(COMMAND ${ARGN} WORKING_DIRECTORY ${SRC}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL code)
    message(FATAL_ERROR "expected exit ${code}, got ${rc}: ${ARGN}\nstdout: ${out}\nstderr: ${err}")
  endif()
  set(LAST_OUT "${out}" PARENT_SCOPE)
  set(LAST_ERR "${err}" PARENT_SCOPE)
endfunction()

function(expect_match text regex)
  if(NOT "${text}" MATCHES "${regex}")
    message(FATAL_ERROR "output does not match '${regex}':\n${text}")
  endif()
endfunction()

# The README's main job, short, with the JSON report.
expect_exit(0 ${POLLSIM} run configs/default.yaml --set duration=100ms --set warmup=10ms --json ${OUT}/out.json)
expect_match("${LAST_OUT}" "poll.ns histogram")
file(READ ${OUT}/out.json report)
string(JSON iops_mean GET "${report}" metrics iops mean)
string(JSON n_values LENGTH "${report}" metrics iops values)
string(JSON hist_len LENGTH "${report}" metrics poll histogram)
if(iops_mean LESS_EQUAL 0 OR NOT n_values EQUAL 3 OR hist_len LESS 1)
  message(FATAL_ERROR "bad report: iops ${iops_mean}, ${n_values} values, histogram ${hist_len}")
endif()

# Bad input: clear message, exit 2, no half-written result file.
expect_exit(2 ${POLLSIM} run configs/default.yaml --set no.such.key=1 --json ${OUT}/bad.json)
expect_match("${LAST_ERR}" "unknown key 'no.such.key'")
if(EXISTS ${OUT}/bad.json)
  message(FATAL_ERROR "a failed run left ${OUT}/bad.json behind")
endif()
expect_exit(2 ${POLLSIM} run configs/default.yaml --set iothread.poll-weight=64)
expect_match("${LAST_ERR}" "poll-weight")
expect_exit(2 ${POLLSIM} run configs/default.yaml --iothread poll-weight=99)
expect_match("${LAST_ERR}" "poll-weight")
expect_exit(2 ${POLLSIM} run configs/default.yaml --set profile=/nonexistent/profile.yaml)
expect_match("${LAST_ERR}" "/nonexistent/profile.yaml")
expect_exit(2 ${POLLSIM} run /nonexistent/config.yaml)
expect_exit(2 ${POLLSIM} frobnicate)
expect_exit(0 ${POLLSIM} --help)
expect_exit(0 ${POLLSIM} run --help)
expect_match("${LAST_OUT}" "--set")

# ---- recorded traces (workloads/trace/FORMATS.md) ----------------------------

# trace stats: a missing file is named; a damaged line is named by file and
# line; --skip-bad counts it instead; out of order beyond the window is refused.
expect_exit(2 ${POLLSIM} trace stats ${OUT}/no-such-trace.csv)
expect_match("${LAST_ERR}" "no-such-trace\\.csv: cannot open trace file")
file(WRITE ${OUT}/damaged.csv "submit_ns,op\n0,read\n10,erase\n20,write\n")
expect_exit(2 ${POLLSIM} trace stats ${OUT}/damaged.csv)
expect_match("${LAST_ERR}" "damaged\\.csv:3: unknown op 'erase'")
expect_exit(0 ${POLLSIM} trace stats ${OUT}/damaged.csv --skip-bad)
expect_match("${LAST_OUT}" "requests +2 \\(1 reads, 1 writes")
expect_match("${LAST_OUT}" "1 malformed skipped")
file(WRITE ${OUT}/late.csv "submit_ns\n10\n20\n30\n5\n40\n")
expect_exit(2 ${POLLSIM} trace stats ${OUT}/late.csv --reorder-window 2)
expect_match("${LAST_ERR}" "late\\.csv:5: request submitted at 5 ns is older than one already replayed \\(20 ns\\)")

# trace synth writes the native format, which stats and replay read back.
expect_exit(0 ${POLLSIM} trace synth configs/default.yaml --out ${OUT}/synth.csv
            --set duration=5ms --set warmup=0 --set workload.numjobs=2)
if(NOT EXISTS ${OUT}/synth.csv)
  message(FATAL_ERROR "trace synth did not write ${OUT}/synth.csv")
endif()
file(STRINGS ${OUT}/synth.csv synth_lines)
list(LENGTH synth_lines synth_n)
list(GET synth_lines 1 synth_header)
if(synth_n LESS 12 OR NOT synth_header STREQUAL "submit_ns,complete_ns,service_ns,device,queue,op,bytes")
  message(FATAL_ERROR "trace synth wrote ${synth_n} lines, header '${synth_header}'")
endif()
expect_exit(0 ${POLLSIM} trace stats ${OUT}/synth.csv --json)
string(JSON synth_requests GET "${LAST_OUT}" requests)
string(JSON synth_devices LENGTH "${LAST_OUT}" devices)
math(EXPR synth_rows "${synth_n} - 2")  # comment and header
if(NOT synth_requests EQUAL synth_rows OR NOT synth_devices EQUAL 2)
  message(FATAL_ERROR "stats of the synthesized trace: ${synth_requests} requests (file has ${synth_rows}), ${synth_devices} devices")
endif()
expect_exit(2 ${POLLSIM} trace synth configs/default.yaml --out ${OUT}/synth.txt)
expect_match("${LAST_ERR}" "must end in \\.csv or \\.jsonl")

# Every format replays open and closed loop from the command line (fio iolog
# v2 has no times: closed only, and open says so). The real QEMU guest log
# has only 360 requests/s (TCG), so it runs 200 ms instead of 20.
foreach(trace native/requests.csv native/arrivals.jsonl blkparse/two_devices.txt fio/randrw.iolog
              fio/randrw_v2.iolog fio/randrw_lat.1.log fio/randrw_slat.1.log qemu/luring.log qemu/virtio_blk.log
              qemu/virtio_blk_real.log)
  set(short --set duration=20ms --set warmup=2ms --set replications=1 --set workload.loop=true)
  if(trace STREQUAL "qemu/virtio_blk_real.log")
    set(short --set duration=200ms --set warmup=2ms --set replications=1 --set workload.loop=true)
  endif()
  foreach(mode open closed)
    if(trace STREQUAL "fio/randrw_v2.iolog" AND mode STREQUAL "open")
      expect_exit(2 ${POLLSIM} run configs/default.yaml --set workload.type=trace
                  --set workload.trace=tests/data/traces/${trace} --set workload.replay=open ${short})
      expect_match("${LAST_ERR}" "randrw_v2\\.iolog: .*replay it closed loop")
      continue()
    endif()
    expect_exit(0 ${POLLSIM} run configs/default.yaml --set workload.type=trace
                --set workload.trace=tests/data/traces/${trace} --set workload.replay=${mode} ${short}
                --json ${OUT}/replay.json)
    file(READ ${OUT}/replay.json report)
    string(JSON completed GET "${report}" run requests_completed)
    if(completed LESS 10)
      message(FATAL_ERROR "${trace} ${mode}: only ${completed} requests completed")
    endif()
  endforeach()
endforeach()

# Bad traces in a run: clear message naming file (and line), exit 2, no result file.
expect_exit(2 ${POLLSIM} run configs/default.yaml --set workload.type=trace
            --set workload.trace=${OUT}/no-such-trace.csv --json ${OUT}/bad-trace.json)
expect_match("${LAST_ERR}" "no-such-trace\\.csv: cannot open trace file")
expect_exit(2 ${POLLSIM} run configs/default.yaml --set workload.type=trace --set workload.replay=closed
            --set workload.trace=${OUT}/damaged.csv --json ${OUT}/bad-trace.json)
expect_match("${LAST_ERR}" "damaged\\.csv:3: unknown op 'erase'")
if(EXISTS ${OUT}/bad-trace.json)
  message(FATAL_ERROR "a failed trace run left ${OUT}/bad-trace.json behind")
endif()

# A run with workload.skip_bad counts the damaged line and says so.
expect_exit(0 ${POLLSIM} run configs/default.yaml --set workload.type=trace --set workload.replay=closed
            --set workload.trace=${OUT}/damaged.csv --set workload.skip_bad=true
            --set duration=2ms --set warmup=0 --set replications=1)
expect_match("${LAST_OUT}" "skipped 1 malformed trace records")

# check: a missing baseline or an unknown --set key is a usage error (exit 2).
expect_exit(2 ${POLLSIM} check --baseline ${OUT}/no-such-baseline.json)
expect_match("${LAST_ERR}" "cannot open baseline .*no-such-baseline\\.json")
expect_exit(2 ${POLLSIM} check --baseline results/baseline.json --set no.such.key=1)
expect_match("${LAST_ERR}" "unknown key 'no.such.key'")

# ---- sharded sweeps (issue 13): GNU parallel shards merged equal one run ------
include(${CMAKE_CURRENT_LIST_DIR}/sweep_shard_tests.cmake)

# ---- validate: a QEMU log against the engine (tests/test_validate.cpp) --------

# A run on the hand-made QEMU 7.2 log: every ratio within tolerance (0) or not
# (1), never bad input (2); the JSON has real, simulated and ratio.
set(validate_args validate --qemu-log tests/data/validate/scan72.log --policy legacy-global
    --iothread poll-max-ns=32768 --profile tests/data/validate/flat.yaml)
execute_process(COMMAND ${POLLSIM} ${validate_args} --json ${OUT}/validate.json
                WORKING_DIRECTORY ${SRC} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT (rc EQUAL 0 OR rc EQUAL 1))
  message(FATAL_ERROR "validate: expected exit 0 or 1, got ${rc}\nstdout: ${out}\nstderr: ${err}")
endif()
expect_match("${out}" "poll_phases")
if(NOT EXISTS ${OUT}/validate.json)
  message(FATAL_ERROR "validate did not write ${OUT}/validate.json")
endif()
file(READ ${OUT}/validate.json validate_report)
string(JSON real_requests GET "${validate_report}" real requests)
string(JSON sim_requests GET "${validate_report}" simulated requests)
string(JSON real_phases GET "${validate_report}" real poll_phases)
string(JSON ratio_requests GET "${validate_report}" ratio requests)
string(JSON n_ratio LENGTH "${validate_report}" ratio)
# scan72.log: 4 requests, 3 poll phases; the replay submits the same 4; no CPU known: 6 ratios.
if(NOT real_requests EQUAL 4 OR NOT sim_requests EQUAL 4 OR NOT real_phases EQUAL 3 OR NOT n_ratio EQUAL 6
   OR NOT ratio_requests EQUAL 1)
  message(FATAL_ERROR "validate JSON: real requests ${real_requests}, simulated ${sim_requests}, "
                      "real phases ${real_phases}, ${n_ratio} ratios, requests ratio ${ratio_requests}")
endif()

# The xz copy of the log gives the same comparison, byte for byte.
execute_process(COMMAND ${POLLSIM} validate --qemu-log tests/data/validate/scan72.log.xz --policy legacy-global
                --iothread poll-max-ns=32768 --profile tests/data/validate/flat.yaml --json ${OUT}/validate-xz.json
                WORKING_DIRECTORY ${SRC} RESULT_VARIABLE rc_xz OUTPUT_QUIET ERROR_QUIET)
file(READ ${OUT}/validate-xz.json validate_xz_report)
if(NOT rc_xz EQUAL rc OR NOT validate_xz_report STREQUAL validate_report)
  message(FATAL_ERROR "validate of the .xz log differs from the plain one (exit ${rc_xz} vs ${rc})")
endif()

# Bad input: exit 2 with the file named; no JSON left behind.
expect_exit(2 ${POLLSIM} validate --qemu-log ${OUT}/no-such-qemu.log --policy legacy-global
            --iothread poll-max-ns=32768 --json ${OUT}/validate-bad.json)
expect_match("${LAST_ERR}" "no-such-qemu\\.log")
if(EXISTS ${OUT}/validate-bad.json)
  message(FATAL_ERROR "a failed validate left ${OUT}/validate-bad.json behind")
endif()
expect_exit(2 ${POLLSIM} ${validate_args} --from 0.002 --to 0.001)
expect_match("${LAST_ERR}" "--from/--to")
expect_exit(2 ${POLLSIM} ${validate_args} --tolerance -1)
expect_match("${LAST_ERR}" "--tolerance")
file(MAKE_DIRECTORY ${OUT}/validate-empty)
file(WRITE ${OUT}/validate-empty/notes.json "{\"comment\": \"not a capture sidecar\"}\n")
expect_exit(2 ${POLLSIM} validate --all ${OUT}/validate-empty)
expect_match("${LAST_ERR}" "no capture sidecars")

# ---- hardening (issue 10): one block per item --------------------------------
include(${CMAKE_CURRENT_LIST_DIR}/hardening_cli_tests.cmake)

# ---- bench: figures beside the bare-heap limit, as JSON too ------------------
expect_exit(0 ${POLLSIM} bench --set duration=20ms --set warmup=0 --heap-pending 64 --json ${OUT}/bench.json)
expect_match("${LAST_OUT}" "share of it +[0-9.]+ %")
file(READ ${OUT}/bench.json BENCH_JSON)
foreach(key requests_per_cpu_s events_per_cpu_s bare_heap_events_per_cpu_s share_of_bare_heap peak_rss_mib)
  string(JSON v GET "${BENCH_JSON}" ${key})
endforeach()
string(JSON pending GET "${BENCH_JSON}" bare_heap_pending)
if(NOT pending EQUAL 64)
  message(FATAL_ERROR "bench.json: bare_heap_pending ${pending}, expected 64")
endif()
expect_exit(2 ${POLLSIM} bench --heap-pending 0)
