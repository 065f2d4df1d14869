# cmake -DMODE=<find_package|add_subdirectory|fetchcontent> -DSOURCE_DIR=... -DBUILD_DIR=...
#       -DWORK_DIR=... -P run.cmake
# Builds the consumer project against ServerFixtures that way and runs both of its programs.
# find_package also checks what find_package(ServerFixtures) says for other versions, a missing
# dependency and another system (probe/, configured only), and the installed pkg-config files.
file(REMOVE_RECURSE ${WORK_DIR})
set(extra)
if(MODE STREQUAL "find_package")
  execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK_DIR}/prefix
                  RESULT_VARIABLE rc)
  if(rc)
    message(FATAL_ERROR "install failed: ${rc}")
  endif()
  set(extra -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix)

  # The pkg-config files come with the install, and lead into the prefix they are in.
  file(GLOB_RECURSE pc_files ${WORK_DIR}/prefix/serverfixtures*.pc)
  list(LENGTH pc_files count)
  if(NOT count EQUAL 2)
    message(FATAL_ERROR "install: expected serverfixtures.pc and serverfixtures-gtest.pc, found [${pc_files}]")
  endif()
  list(GET pc_files 0 pc_file)
  get_filename_component(pc_dir ${pc_file} DIRECTORY)
  set(ENV{PKG_CONFIG_PATH} ${pc_dir})
  execute_process(COMMAND pkg-config --cflags --libs serverfixtures-gtest
                  RESULT_VARIABLE rc OUTPUT_VARIABLE flags ERROR_VARIABLE err)
  unset(ENV{PKG_CONFIG_PATH})
  set(include_dir "")
  if(flags MATCHES "-I(${WORK_DIR}/prefix/[^ ]+)")
    set(include_dir ${CMAKE_MATCH_1})
  endif()
  if(rc OR NOT EXISTS "${include_dir}/fixtures/core.hpp"
     OR NOT flags MATCHES "-L${WORK_DIR}/prefix/[^ ]+ -lserverfixtures-gtest -lserverfixtures-core ")
    message(FATAL_ERROR "pkg-config serverfixtures-gtest (${rc}) in ${pc_dir}: ${flags}${err}")
  endif()
  message(STATUS "pkg-config serverfixtures-gtest: OK")

  # What find_package(ServerFixtures) says to a project (probe/) against the installed package:
  # probe(<regex its output must match> <its -D arguments>...).
  function(probe expected)
    file(REMOVE_RECURSE ${WORK_DIR}/probe)
    execute_process(COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/packaging/probe -B ${WORK_DIR}/probe
                            -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix ${ARGN}
                    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(rc)
      message(FATAL_ERROR "probe ${ARGN}: the configure stopped (${rc}):\n${out}${err}")
    endif()
    if(NOT out MATCHES "${expected}")
      message(FATAL_ERROR "probe ${ARGN}: expected /${expected}/ in:\n${out}${err}")
    endif()
    message(STATUS "probe ${ARGN}: OK")
  endfunction()
  file(READ ${BUILD_DIR}/ServerFixturesConfigVersion.cmake version_file)
  if(NOT version_file MATCHES "PACKAGE_VERSION \"([0-9]+)\\.([0-9]+)\\.")
    message(FATAL_ERROR "no PACKAGE_VERSION in ${BUILD_DIR}/ServerFixturesConfigVersion.cmake")
  endif()
  set(major ${CMAKE_MATCH_1})
  set(minor ${CMAKE_MATCH_2})
  math(EXPR next_minor "${minor} + 1")
  math(EXPR next_major "${major} + 1")
  set(not_found "found=\\[(0|[Ff][Aa][Ll][Ss][Ee])?\\]")
  # The installed version: found, with both targets.
  probe("found=\\[1\\] version=\\[${major}\\.${minor}\\.[0-9]+\\] targets=\\[ServerFixtures::core ServerFixtures::gtest\\]"
        -DREQUEST=${major}.${minor} -DARGS=REQUIRED,COMPONENTS,gtest)
  # A later minor or major version: not found.
  probe("${not_found}" -DREQUEST=${major}.${next_minor})
  probe("${not_found}" -DREQUEST=${next_major}.0)
  if(major EQUAL 0 AND minor GREATER 0)
    # While 0.x, an earlier 0.minor is another API: not found (SameMajorVersion accepted it).
    math(EXPR older_minor "${minor} - 1")
    probe("${not_found}" -DREQUEST=0.${older_minor})
  endif()
  # A missing dependency, without REQUIRED: not found, with the reason; the configure goes on.
  probe("${not_found}.*reason=\\[ServerFixtures could not be found because dependency Boost could not be found\\.\\]"
        -DCMAKE_DISABLE_FIND_PACKAGE_Boost=ON)
  probe("${not_found}.*reason=\\[ServerFixtures could not be found because dependency PkgConfig could not be found\\.\\]"
        -DCMAKE_DISABLE_FIND_PACKAGE_httplib=ON -DCMAKE_DISABLE_FIND_PACKAGE_PkgConfig=ON)
  # Another system: not found, saying why.
  probe("${not_found}.*reason=\\[ServerFixtures is Linux only [^]]*configured for Darwin\\.\\]"
        -DFAKE_SYSTEM_NAME=Darwin)
  # With REQUIRED, a missing dependency stops the configure, naming it.
  file(REMOVE_RECURSE ${WORK_DIR}/probe)
  execute_process(COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/packaging/probe -B ${WORK_DIR}/probe
                          -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix -DARGS=REQUIRED -DCMAKE_DISABLE_FIND_PACKAGE_Boost=ON
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(rc EQUAL 0 OR NOT "${out}${err}" MATCHES "Boost")
    message(FATAL_ERROR "probe REQUIRED without Boost: expected the configure to stop, naming Boost (${rc}):\n${out}${err}")
  endif()
  message(STATUS "probe REQUIRED without Boost: stops, OK")
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
