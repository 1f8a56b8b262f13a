# Configuring the app without NLopt fails with a message naming it and the package (never a
# silent skip of tmesim calibrate). Run by ctest as Build.NloptMissingIsAnError:
#   cmake -DSRC=<source dir> -P tests/cmake/nlopt_missing.cmake
# The build directory lives under $TMPDIR (or /tmp) and is removed.
if(DEFINED ENV{TMPDIR} AND NOT "$ENV{TMPDIR}" STREQUAL "")
  set(tmp "$ENV{TMPDIR}")
else()
  set(tmp "/tmp")
endif()
string(RANDOM LENGTH 8 tag)
set(work "${tmp}/tmesim_nlopt_missing_${tag}")
execute_process(
  COMMAND ${CMAKE_COMMAND} -S ${SRC} -B ${work} -DTMESIM_CUDA=OFF -DTMESIM_TESTS=OFF -DTMESIM_BENCH=OFF
          -DNLOPT_INCLUDE_DIR=${work}/no-such-dir -DNLOPT_LIBRARY=${work}/no-such-dir/libnlopt.so
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
file(REMOVE_RECURSE ${work})
if(rc EQUAL 0)
  message(FATAL_ERROR "configure without NLopt succeeded; expected it to fail")
endif()
string(REPLACE "\n" " " text "${err}")
string(REGEX REPLACE " +" " " text "${text}")
if(NOT text MATCHES "NLopt not found .*tmesim calibrate needs it\\. Install it \\(Debian: libnlopt-dev")
  message(FATAL_ERROR "configure without NLopt failed without the expected message:\n${err}")
endif()
message(STATUS "configure without NLopt fails as expected")
