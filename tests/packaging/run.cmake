# cmake -DMODE=<find_package|add_subdirectory|fetchcontent> -DSOURCE_DIR=... -DBUILD_DIR=...
#       -DWORK_DIR=... -P run.cmake
# Builds the consumer project against ServerFixtures that way and runs both of its programs.
file(REMOVE_RECURSE ${WORK_DIR})
set(extra)
if(MODE STREQUAL "find_package")
  execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK_DIR}/prefix
                  RESULT_VARIABLE rc)
  if(rc)
    message(FATAL_ERROR "install failed: ${rc}")
  endif()
  set(extra -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix)
endif()
foreach(step
    "${CMAKE_COMMAND};-S;${SOURCE_DIR}/tests/packaging/consumer;-B;${WORK_DIR}/build;-DMODE=${MODE};-DFIXTURES_SOURCE_DIR=${SOURCE_DIR};-DCMAKE_BUILD_TYPE=Release;${extra}"
    "${CMAKE_COMMAND};--build;${WORK_DIR}/build;-j2"
    "${WORK_DIR}/build/core_consumer"
    "${WORK_DIR}/build/gtest_consumer")
  execute_process(COMMAND ${step} RESULT_VARIABLE rc)
  if(rc)
    message(FATAL_ERROR "failed (${rc}): ${step}")
  endif()
endforeach()
message(STATUS "consumer via ${MODE}: OK")
