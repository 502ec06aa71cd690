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
