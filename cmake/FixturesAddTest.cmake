# fixtures_add_test(<target>
#   [LABELS <label>...] [TIMEOUT <seconds>] [LOG_DIR <dir>] [SHARED_SERVER]
#   [EXTRA_ARGS <arg>...] [DISCOVERY_TIMEOUT <seconds>] [PROPERTIES <name> <value>...]
#   [CLEANUP_DEPENDS <test>...])
#
# Registers the GoogleTest tests of <target> with ctest through gtest_discover_tests (one ctest
# test per gtest test), each with its own log directory. Call enable_testing() first.
#
#   LABELS             added to every test, with "fixtures".
#   TIMEOUT            ctest's timeout of each test, in whole seconds (default 300), multiplied by
#                      FIXTURES_TIMEOUT_SCALE as ctest sees it in its environment when it reads
#                      the tests (the `environment` of a test preset, or the shell's), i.e. the
#                      same value the library reads at run time; rounded up to whole seconds. Not
#                      set, or not a positive decimal number such as 2.5 (then with a warning): 1.
#   LOG_DIR            default ${CMAKE_CURRENT_BINARY_DIR}/fixtures-logs/<target>; relative to
#                      ${CMAKE_CURRENT_BINARY_DIR}. Must not contain ';'.
#   SHARED_SERVER      see below.
#   EXTRA_ARGS         passed to every test run (not to the discovery).
#   DISCOVERY_TIMEOUT  for `<target> --gtest_list_tests` after each build (default 60, not scaled).
#   PROPERTIES         name/value pairs given to set_tests_properties for every test, as
#                      gtest_discover_tests' PROPERTIES (one value per name: repeat the pair for
#                      more). List properties (ENVIRONMENT, ATTACHED_FILES_ON_FAIL, ...) add to
#                      the helper's, which come last. A LABELS or TIMEOUT among them is read as
#                      the helper's own argument of that name (TIMEOUT is then scaled).
#
# Every discovered test, say Suite.Name, gets, with <dir> = <LOG_DIR>/<its name with every
# character other than A-Z a-z 0-9 . _ - replaced by _>:
#   LABELS                  fixtures and the LABELS
#   TIMEOUT                 the scaled TIMEOUT
#   ENVIRONMENT             FIXTURES_LOG_DIR=<dir>            (the servers' log files go there)
#                           FIXTURES_REPORT_FILE=<dir>/report.txt (the gtest glue appends the
#                                                   failure report of a failed test to it)
#                           FIXTURES_TIMEOUT_SCALE=<the scale used for TIMEOUT>
#   ATTACHED_FILES_ON_FAIL  <dir>/report.txt (sent to CDash with a failed test's result)
# Tests named with '[' or ']' get none of these: gtest_discover_tests leaves them out of the
# TEST_LIST this helper reads.
#
# SHARED_SERVER: one server for all the tests of <target>, started by a test of its own. Adds
#   <target>.fixtures_setup    running <target> --gtest_filter=FixturesShared.Setup,
#                              ctest property FIXTURES_SETUP <target>_server
#   <target>.fixtures_cleanup  running <target> --gtest_filter=FixturesShared.Cleanup,
#                              ctest property FIXTURES_CLEANUP <target>_server
# both with the LABELS, the scaled TIMEOUT, the PROPERTIES, the EXTRA_ARGS and the log directory
# <LOG_DIR>/shared (FIXTURES_LOG_DIR, FIXTURES_REPORT_FILE, ATTACHED_FILES_ON_FAIL as above), and
# gives every discovered test FIXTURES_REQUIRED <target>_server. All three kinds get ENVIRONMENT
# FIXTURES_SHARED_DIR=<LOG_DIR>/shared. The helper does not give FIXTURES_SHARED_DIR to the
# discovery (the glue registers FixturesShared.* only when it is set) and filters FixturesShared.*
# out of it (CMake >= 3.22), so those two are never discovered as tests of their own.
# CLEANUP_DEPENDS: tests that must run before the cleanup stops the server (ctest property
#   DEPENDS of <target>.fixtures_cleanup), such as a test of your own with FIXTURES_CLEANUP
#   <target>_server that checks the shared server after all the tests (ctest runs cleanup tests
#   after every test that requires the fixture).
#
# How: per-test values cannot go through gtest_discover_tests' PROPERTIES (the names are known
# only after the build). gtest_discover_tests(... TEST_LIST) sets the names in a variable inside
# the ctest file it generates; a file generated here, appended to the directory's
# TEST_INCLUDE_FILES after it, runs at ctest time, reads that variable and the environment, and
# sets the properties (ctest appends list properties, so gtest_discover_tests' are kept).
# Works with DISCOVERY_MODE POST_BUILD (the default) and PRE_TEST
# (CMAKE_GTEST_DISCOVER_TESTS_DISCOVERY_MODE).
include_guard(GLOBAL)
include(GoogleTest)

# Quotes each element of a list as a bracket argument for the generated ctest file.
function(_fixtures_quote_args out)
  set(quoted "")
  foreach(arg IN LISTS ARGN)
    string(APPEND quoted " [==[${arg}]==]")
  endforeach()
  set(${out} "${quoted}" PARENT_SCOPE)
endfunction()

function(fixtures_add_test target)
  cmake_parse_arguments(PARSE_ARGV 1 arg "SHARED_SERVER" "TIMEOUT;LOG_DIR;DISCOVERY_TIMEOUT"
                        "LABELS;EXTRA_ARGS;PROPERTIES;CLEANUP_DEPENDS")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "fixtures_add_test(${target}): unknown arguments: ${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT TARGET ${target})
    message(FATAL_ERROR "fixtures_add_test(${target}): no such target")
  endif()
  if(NOT DEFINED arg_TIMEOUT)
    set(arg_TIMEOUT 300)
  endif()
  if(NOT arg_TIMEOUT MATCHES "^[0-9]+$" OR arg_TIMEOUT EQUAL 0)
    message(FATAL_ERROR "fixtures_add_test(${target}): TIMEOUT must be a positive number of whole seconds, not '${arg_TIMEOUT}'")
  endif()
  if(NOT DEFINED arg_DISCOVERY_TIMEOUT)
    set(arg_DISCOVERY_TIMEOUT 60)
  endif()
  if(NOT DEFINED arg_LOG_DIR)
    set(arg_LOG_DIR "${CMAKE_CURRENT_BINARY_DIR}/fixtures-logs/${target}")
  endif()
  get_filename_component(log_dir "${arg_LOG_DIR}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_BINARY_DIR}")
  if(log_dir MATCHES ";")
    message(FATAL_ERROR "fixtures_add_test(${target}): LOG_DIR must not contain ';': ${log_dir}")
  endif()
  list(LENGTH arg_PROPERTIES count)
  math(EXPR odd "${count} % 2")
  if(odd)
    message(FATAL_ERROR "fixtures_add_test(${target}): PROPERTIES must be name/value pairs: ${arg_PROPERTIES}")
  endif()

  # The name of the variable gtest_discover_tests sets, unique per call like its own files.
  get_property(counter TARGET ${target} PROPERTY CTEST_DISCOVERED_TEST_COUNTER)
  if(NOT counter)
    set(counter 0)
  endif()
  math(EXPR counter "${counter} + 1")
  set(test_list "fixtures_${target}_${counter}_TESTS")

  set(filter)
  if(CMAKE_VERSION VERSION_GREATER_EQUAL 3.22)
    set(filter TEST_FILTER "-FixturesShared.*")
  endif()
  gtest_discover_tests(${target}
    TEST_LIST ${test_list}
    DISCOVERY_TIMEOUT ${arg_DISCOVERY_TIMEOUT}
    EXTRA_ARGS ${arg_EXTRA_ARGS}
    PROPERTIES ${arg_PROPERTIES}
    ${filter})

  set(labels fixtures ${arg_LABELS})
  list(REMOVE_DUPLICATES labels)
  set(fixture "${target}_server")
  set(shared_dir "${log_dir}/shared")
  set(shared_env "")
  set(required "")
  if(arg_SHARED_SERVER)
    set(shared_env ";FIXTURES_SHARED_DIR=\${_fixtures_shared_dir}")
    set(required " FIXTURES_REQUIRED [==[${fixture}]==]")
  endif()

  string(CONCAT content
    "# Generated by fixtures_add_test(${target}) (${CMAKE_CURRENT_LIST_FILE}); read by ctest\n"
    "# after the file of gtest_discover_tests that sets ${test_list}.\n"
    "set(_fixtures_scale_text \"\$ENV{FIXTURES_TIMEOUT_SCALE}\")\n"
    "set(_fixtures_scale 1)\n"
    "set(_fixtures_scale_milli 1000)\n"
    "if(NOT _fixtures_scale_text STREQUAL \"\")\n"
    "  if(_fixtures_scale_text MATCHES \"[1-9]\" AND _fixtures_scale_text MATCHES \"^0*([0-9]*)(\\\\.([0-9]*))?\$\")\n"
    "    set(_fixtures_int \"\${CMAKE_MATCH_1}\")\n"
    "    string(SUBSTRING \"\${CMAKE_MATCH_3}000\" 0 3 _fixtures_milli)\n"
    "    if(_fixtures_int STREQUAL \"\")\n"
    "      set(_fixtures_int 0)\n"
    "    endif()\n"
    "    math(EXPR _fixtures_scale_milli \"\${_fixtures_int} * 1000 + 1\${_fixtures_milli} - 1000\")\n"
    "    if(_fixtures_scale_milli LESS 1)\n"
    "      set(_fixtures_scale_milli 1)\n"
    "    endif()\n"
    "    set(_fixtures_scale \"\${_fixtures_scale_text}\")\n"
    "  else()\n"
    "    message(WARNING \"ServerFixtures: ignoring FIXTURES_TIMEOUT_SCALE='\${_fixtures_scale_text}' \"\n"
    "      \"(want a positive decimal number such as 2.5): timeouts of ${target}'s tests not scaled\")\n"
    "  endif()\n"
    "endif()\n"
    "math(EXPR _fixtures_timeout \"(${arg_TIMEOUT} * \${_fixtures_scale_milli} + 999) / 1000\")\n"
    "set(_fixtures_labels [==[${labels}]==])\n"
    "set(_fixtures_log_dir [==[${log_dir}]==])\n"
    "set(_fixtures_shared_dir [==[${shared_dir}]==])\n"
    "foreach(_fixtures_test IN LISTS ${test_list})\n"
    "  string(REGEX REPLACE \"[^A-Za-z0-9._-]\" \"_\" _fixtures_dir \"\${_fixtures_test}\")\n"
    "  set(_fixtures_dir \"\${_fixtures_log_dir}/\${_fixtures_dir}\")\n"
    "  set_tests_properties(\"\${_fixtures_test}\" PROPERTIES\n"
    "    LABELS \"\${_fixtures_labels}\"\n"
    "    TIMEOUT \${_fixtures_timeout}\n"
    "    ENVIRONMENT \"FIXTURES_LOG_DIR=\${_fixtures_dir};FIXTURES_REPORT_FILE=\${_fixtures_dir}/report.txt;FIXTURES_TIMEOUT_SCALE=\${_fixtures_scale}${shared_env}\"\n"
    "    ATTACHED_FILES_ON_FAIL \"\${_fixtures_dir}/report.txt\"${required})\n"
    "endforeach()\n")

  if(arg_SHARED_SERVER)
    # Added here rather than with add_test(): ctest reads TEST_INCLUDE_FILES before the
    # directory's add_test() calls, so this file could not set their ctest-time TIMEOUT.
    get_property(emulator TARGET ${target} PROPERTY CROSSCOMPILING_EMULATOR)
    _fixtures_quote_args(command ${emulator} "$<TARGET_FILE:${target}>")
    _fixtures_quote_args(extra_args ${arg_EXTRA_ARGS})
    _fixtures_quote_args(properties ${arg_PROPERTIES})
    foreach(kind setup cleanup)
      # In the order of the discovered tests' properties: gtest_discover_tests' WORKING_DIRECTORY,
      # then the PROPERTIES, then the helper's.
      set(first_properties "set_tests_properties([==[${target}.fixtures_${kind}]==] PROPERTIES WORKING_DIRECTORY [==[${CMAKE_CURRENT_BINARY_DIR}]==]${properties})\n")
      if(kind STREQUAL "setup")
        set(gtest_name FixturesShared.Setup)
        set(role FIXTURES_SETUP)
      else()
        set(gtest_name FixturesShared.Cleanup)
        set(role FIXTURES_CLEANUP)
        if(arg_CLEANUP_DEPENDS)
          string(APPEND first_properties
            "set_tests_properties([==[${target}.fixtures_${kind}]==] PROPERTIES DEPENDS \"${arg_CLEANUP_DEPENDS}\")\n")
        endif()
      endif()
      string(CONCAT content "${content}"
        "add_test([==[${target}.fixtures_${kind}]==]${command} [==[--gtest_filter=${gtest_name}]==]${extra_args})\n"
        "${first_properties}"
        "set_tests_properties([==[${target}.fixtures_${kind}]==] PROPERTIES\n"
        "  ${role} [==[${fixture}]==]\n"
        "  LABELS \"\${_fixtures_labels}\"\n"
        "  TIMEOUT \${_fixtures_timeout}\n"
        "  ENVIRONMENT \"FIXTURES_LOG_DIR=\${_fixtures_shared_dir};FIXTURES_REPORT_FILE=\${_fixtures_shared_dir}/report.txt;FIXTURES_TIMEOUT_SCALE=\${_fixtures_scale}${shared_env}\"\n"
        "  ATTACHED_FILES_ON_FAIL \"\${_fixtures_shared_dir}/report.txt\")\n")
    endforeach()
  endif()

  # $<TARGET_FILE> needs file(GENERATE); one file per configuration with multi-config generators.
  set(file_base "${CMAKE_CURRENT_BINARY_DIR}/${target}[${counter}]_fixtures")
  get_property(multi_config GLOBAL PROPERTY GENERATOR_IS_MULTI_CONFIG)
  if(multi_config)
    file(GENERATE OUTPUT "${file_base}-$<CONFIG>.cmake" CONTENT "${content}")
    file(WRITE "${file_base}.cmake"
      "if(EXISTS \"${file_base}-\${CTEST_CONFIGURATION_TYPE}.cmake\")\n"
      "  include(\"${file_base}-\${CTEST_CONFIGURATION_TYPE}.cmake\")\n"
      "endif()\n")
  else()
    file(GENERATE OUTPUT "${file_base}.cmake" CONTENT "${content}")
  endif()
  # After the file gtest_discover_tests just appended, so the test list is set when this runs.
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${file_base}.cmake")
endfunction()
