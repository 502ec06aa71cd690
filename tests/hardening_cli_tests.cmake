# Issue 10 ("Hardening"), the real binary: one block per item, in item order.
# Included by cli_tests.cmake (expect_exit, expect_match, POLLSIM, SRC, OUT).
set(short_run --set duration=5ms --set warmup=0 --set replications=1)

# Item 1: --json through a symlink writes its target and keeps the link; a
# missing directory is refused and not created; trace synth likewise.
file(WRITE ${OUT}/h1-target.json "old")
file(CREATE_LINK h1-target.json ${OUT}/h1-link.json SYMBOLIC)
expect_exit(0 ${POLLSIM} run configs/default.yaml ${short_run} --json ${OUT}/h1-link.json)
if(NOT IS_SYMLINK ${OUT}/h1-link.json)
  message(FATAL_ERROR "item 1: --json replaced the symlink ${OUT}/h1-link.json")
endif()
file(READ ${OUT}/h1-target.json h1_report)
string(JSON h1_version GET "${h1_report}" pollsim_version)
expect_exit(2 ${POLLSIM} run configs/default.yaml ${short_run} --json ${OUT}/h1-nodir/x.json)
expect_match("${LAST_ERR}" "cannot write '.*h1-nodir/x\\.json': directory '.*h1-nodir' does not exist")
if(EXISTS ${OUT}/h1-nodir)
  message(FATAL_ERROR "item 1: --json created the directory ${OUT}/h1-nodir")
endif()
file(CREATE_LINK h1-synth-target.csv ${OUT}/h1-synth.csv SYMBOLIC)
expect_exit(0 ${POLLSIM} trace synth configs/default.yaml --out ${OUT}/h1-synth.csv ${short_run})
if(NOT IS_SYMLINK ${OUT}/h1-synth.csv OR NOT EXISTS ${OUT}/h1-synth-target.csv)
  message(FATAL_ERROR "item 1: trace synth replaced the symlink ${OUT}/h1-synth.csv")
endif()

# Item 2: 100000 nested arrays: a named error, not SIGSEGV, and no dump.
string(REPEAT "[" 100000 h2_open)
string(REPEAT "]" 100000 h2_close)
file(WRITE ${OUT}/h2-deep.jsonl "${h2_open}${h2_close}\n")
expect_exit(2 ${POLLSIM} policy-trace --policy weighted --input ${OUT}/h2-deep.jsonl)
expect_match("${LAST_ERR}" "h2-deep\\.jsonl:1: JSON nested deeper than 64 levels\n$")
expect_exit(2 ${POLLSIM} trace stats ${OUT}/h2-deep.jsonl --format jsonl)
expect_match("${LAST_ERR}" "h2-deep\\.jsonl:1: JSON nested deeper than 64 levels")
string(LENGTH "${LAST_ERR}" h2_len)
if(h2_len GREATER 300)
  message(FATAL_ERROR "item 2: trace stats quoted ${h2_len} characters of input")
endif()

# Item 3: 1024 worker threads under a 1 GB address-space limit: the threads
# that started are joined and the one that could not start is reported (exit
# 2), where std::terminate aborted before. Not under AddressSanitizer, whose
# shadow memory needs terabytes of address space (.ci/setup sets
# POLLSIM_SANITIZED for that run).
if(NOT DEFINED ENV{POLLSIM_SANITIZED})
execute_process(COMMAND sh -c "ulimit -v 1000000 && exec \"$0\" \"$@\"" ${POLLSIM} run configs/default.yaml
                --set threads=1024 --set replications=2000 --set duration=1ms --set warmup=0
                WORKING_DIRECTORY ${SRC} RESULT_VARIABLE h3_rc OUTPUT_VARIABLE h3_out ERROR_VARIABLE h3_err)
if(NOT h3_rc STREQUAL "2" OR NOT h3_err MATCHES "cannot start worker thread [0-9]+ of 1024 \\(.*\\); set fewer threads")
  message(FATAL_ERROR "item 3: expected exit 2 and the thread named, got '${h3_rc}': ${h3_err}")
endif()
endif()

# Item 4: 8 axes of 256 values (2^64 points) were "0 points", exit 0.
set(h4_text "base: ${SRC}/configs/default.yaml\nvary:\n")
foreach(h4_key seed duration warmup iothread.poll-max-ns iothread.poll-grow iothread.poll-shrink
        iothread.poll-weight replications)
  set(h4_values "1")
  foreach(v RANGE 2 256)
    string(APPEND h4_values ",${v}")
  endforeach()
  string(APPEND h4_text "  ${h4_key}: [${h4_values}]\n")
endforeach()
file(WRITE ${OUT}/h4-huge.yaml "${h4_text}")
expect_exit(2 ${POLLSIM} sweep ${OUT}/h4-huge.yaml --out ${OUT}/h4-out --list-points)
expect_match("${LAST_ERR}" "h4-huge\\.yaml: the sweep has more than 18446744073709551615 points \\(256 x 256 x 256 x 256 x 256 x 256 x 256 x 256\\); at most 100000 are allowed")

# Item 5: an open-loop overload grew without bound (77 MB per simulated
# second at 1e6 IOPS); now a full virtqueue (queue_size) refuses and the run
# reports requests_refused. fio beyond queue_size per virtqueue is refused.
expect_exit(0 ${POLLSIM} run configs/default.yaml ${short_run} --set duration=20ms
            --set workload.type=poisson --set workload.rate_iops=1e6 --set queue_size=4 --json ${OUT}/h5-refused.json)
file(READ ${OUT}/h5-refused.json h5_report)
string(JSON h5_refused GET "${h5_report}" metrics requests_refused mean)
if(NOT h5_refused GREATER 0)
  message(FATAL_ERROR "item 5: expected requests_refused > 0, got ${h5_refused}")
endif()
expect_exit(2 ${POLLSIM} run configs/default.yaml ${short_run} --set workload.numjobs=4096 --set workload.iodepth=65536)
expect_match("${LAST_ERR}" "--set: key 'workload.iodepth': 256 fio jobs x iodepth 65536 = 16777216 requests in flight on one virtqueue, more than queue_size 256")

# Item 6: closed-loop replay of a 2000-device trace under `ulimit -n 256`
# (one reader per device failed with "cannot open trace file"): every
# device's one request completes.
set(h6_text "submit_ns,complete_ns,device\n")
foreach(d RANGE 0 1999)
  math(EXPR h6_t "${d} * 1000")
  math(EXPR h6_c "${d} * 1000 + 50000")
  string(APPEND h6_text "${h6_t},${h6_c},${d}\n")
endforeach()
file(WRITE ${OUT}/h6-devices.csv "${h6_text}")
execute_process(COMMAND sh -c "ulimit -n 256 && exec \"$0\" \"$@\"" ${POLLSIM} run configs/default.yaml
                --set workload.type=trace --set workload.trace=${OUT}/h6-devices.csv --set workload.replay=closed
                --set duration=100ms --set warmup=0 --set replications=1 --json ${OUT}/h6.json
                WORKING_DIRECTORY ${SRC} RESULT_VARIABLE h6_rc OUTPUT_QUIET ERROR_VARIABLE h6_err)
if(NOT h6_rc EQUAL 0)
  message(FATAL_ERROR "item 6: closed-loop replay of 2000 devices under ulimit -n 256 failed (${h6_rc}): ${h6_err}")
endif()
file(READ ${OUT}/h6.json h6_report)
string(JSON h6_done GET "${h6_report}" run requests_completed)
if(NOT h6_done EQUAL 2000)
  message(FATAL_ERROR "item 6: ${h6_done} requests completed, expected the trace's 2000")
endif()

# Item 8: silent nonsense is refused, each with a named error (exit 2).
expect_exit(2 ${POLLSIM} run configs/default.yaml --set duration=9e18ns --set warmup=9e18ns)
expect_match("${LAST_ERR}" "--set: key 'warmup': warmup \\+ duration = 1.8e\\+19 ns is longer than a run may be")
file(WRITE ${OUT}/h8-dup.yaml "profile: ${SRC}/configs/profiles/s390x-fcp.yaml\npolicy: weighted\npolicy: legacy\n")
expect_exit(2 ${POLLSIM} run ${OUT}/h8-dup.yaml ${short_run})
expect_match("${LAST_ERR}" "h8-dup\\.yaml:3:1: duplicate key 'policy' \\(first at line 2\\)")
file(WRITE ${OUT}/h8-bytes.csv "submit_ns,bytes\n0,4611686018427387904\n")
expect_exit(2 ${POLLSIM} trace stats ${OUT}/h8-bytes.csv)
expect_match("${LAST_ERR}" "h8-bytes\\.csv:2: request of 4611686018427387904 bytes is out of range")
expect_exit(2 ${POLLSIM} calibrate --max-evaluations -5 --no-write)
expect_match("${LAST_ERR}" "--max-evaluations -5: must be >= 1")

# Item 10: trace stats on a file with no requests exits 2, as run does.
file(WRITE ${OUT}/h10-empty.csv "submit_ns,device\n")
expect_exit(2 ${POLLSIM} trace stats ${OUT}/h10-empty.csv)
expect_match("${LAST_ERR}" "h10-empty\\.csv: no replayable requests in the trace \\(0 lines ignored, 0 skipped\\)")

# Item 11: the untouched fio 3.33 iolog with its close line loads and runs.
expect_exit(0 ${POLLSIM} trace stats ${SRC}/tests/data/traces/fio/close.iolog)
expect_match("${LAST_OUT}" "requests +8 ")
