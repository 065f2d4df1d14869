# cmake -DMODE=<package|readme|meson> -DSOURCE_DIR=... -DPACKAGE_DIR=... [-DWORK_DIR=...] -P deb.cmake
# The Debian package libserverfixtures-dev, as a user gets it:
#   package  (ctest fixture setup) cpack -G DEB in the build tree BUILD_DIR, the .deb's name,
#            control fields and files checked (Depends: every clause satisfied on this machine,
#            which built it), unpacked with dpkg -x into PACKAGE_DIR/root.
#   readme   the README's "## Example", taken from README.md, built with CMake against the
#            unpacked tree only (CMAKE_PREFIX_PATH) and run through ctest (fixtures_add_test).
#   meson    tests/packaging/meson built and run with Meson, its dependency('serverfixtures')
#            found through PKG_CONFIG_PATH in the unpacked tree. Skipped (the line
#            "packaging.meson skipped: ..." that ctest's SKIP_REGULAR_EXPRESSION matches) only
#            when there is no meson.
# One run of cpack only: it builds the tree's preinstall target first, which two at once in
# one build tree would race on; readme and meson read the unpacked tree and work in WORK_DIR.
set(root ${PACKAGE_DIR}/root)

# run(<step name> <command>...): runs it, stops with its output if it fails; output in `out`.
function(run name)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE output ERROR_VARIABLE output)
  if(rc)
    message(FATAL_ERROR "${name} failed (${rc}): ${ARGN}\n${output}")
  endif()
  message(STATUS "${name}: OK")
  set(out "${output}" PARENT_SCOPE)
endfunction()

if(MODE STREQUAL "package")
  # -DBUILD_DIR -DVERSION=<project version> -DLIBDIR=<CMAKE_INSTALL_LIBDIR>
  # -DCORE_FILE -DGTEST_FILE=<the libraries' file names>
  file(REMOVE_RECURSE ${PACKAGE_DIR})
  run("cpack" ${CMAKE_CPACK_COMMAND} -G DEB --config ${BUILD_DIR}/CPackConfig.cmake -B ${PACKAGE_DIR})
  run("dpkg --print-architecture" dpkg --print-architecture)
  string(STRIP "${out}" arch)
  set(deb ${PACKAGE_DIR}/libserverfixtures-dev_${VERSION}_${arch}.deb)
  if(NOT EXISTS ${deb})
    file(GLOB made ${PACKAGE_DIR}/*.deb)
    message(FATAL_ERROR "cpack made [${made}], not ${deb}")
  endif()

  # Control fields.
  foreach(field Package Version Architecture Section Maintainer Description Depends)
    run("dpkg-deb -f ${field}" dpkg-deb -f ${deb} ${field})
    string(STRIP "${out}" value)
    if(value STREQUAL "")
      message(FATAL_ERROR "the .deb has no ${field} field")
    endif()
    set(control_${field} "${value}")
  endforeach()
  if(NOT control_Package STREQUAL "libserverfixtures-dev" OR NOT control_Version STREQUAL "${VERSION}"
     OR NOT control_Architecture STREQUAL "${arch}")
    message(FATAL_ERROR "the .deb is ${control_Package} ${control_Version} ${control_Architecture}, "
                        "not libserverfixtures-dev ${VERSION} ${arch}")
  endif()
  message(STATUS "Depends: ${control_Depends}")
  foreach(needed "libboost1\\.[0-9]+-dev" "libboost-filesystem1\\.[0-9]+-dev" "libcpp-httplib-dev"
                 "libgtest-dev" "libgmock-dev" "pkg-?conf")
    if(NOT control_Depends MATCHES "(^|, )(.*\\| )?${needed}( |,|$)")
      message(FATAL_ERROR "Depends names no /${needed}/: ${control_Depends}")
    endif()
  endforeach()
  # Every clause (a | b, each maybe with a version) is met here: the names are real packages,
  # at the versions this build used.
  string(REPLACE ", " ";" clauses "${control_Depends}")
  foreach(clause IN LISTS clauses)
    string(REPLACE " | " ";" alternatives "${clause}")
    set(met FALSE)
    foreach(alternative IN LISTS alternatives)
      if(NOT alternative MATCHES "^([a-z0-9.+-]+)( \\(([<>=]+) ([^)]+)\\))?$")
        message(FATAL_ERROR "Depends: cannot read '${alternative}' in '${control_Depends}'")
      endif()
      set(name ${CMAKE_MATCH_1})
      set(op "${CMAKE_MATCH_3}")
      set(wanted "${CMAKE_MATCH_4}")
      execute_process(COMMAND dpkg-query -W -f=\${Status}|\${Version} ${name}
                      RESULT_VARIABLE rc OUTPUT_VARIABLE status ERROR_QUIET)
      if(rc OR NOT status MATCHES "^install ok installed\\|(.+)$")
        continue()
      endif()
      set(have "${CMAKE_MATCH_1}")
      if(op)
        execute_process(COMMAND dpkg --compare-versions ${have} ${op} ${wanted} RESULT_VARIABLE rc)
        if(rc)
          continue()
        endif()
      endif()
      set(met TRUE)
    endforeach()
    if(NOT met)
      message(FATAL_ERROR "Depends: '${clause}' is not met on this machine, which built the .deb")
    endif()
  endforeach()

  # Files: everything under usr/, and what a consumer needs.
  run("dpkg-deb -c" dpkg-deb -c ${deb})
  string(REGEX MATCHALL "[^\n]+" entries "${out}")
  foreach(entry IN LISTS entries)
    if(NOT entry MATCHES " \\./(usr/.*)?$")
      message(FATAL_ERROR "the .deb installs outside /usr: ${entry}")
    endif()
  endforeach()
  run("dpkg -x" dpkg -x ${deb} ${root})
  set(cmake_dir usr/${LIBDIR}/cmake/ServerFixtures)
  foreach(file usr/include/fixtures/core.hpp usr/include/fixtures/gtest.hpp
               usr/${LIBDIR}/${CORE_FILE} usr/${LIBDIR}/${GTEST_FILE}
               ${cmake_dir}/ServerFixturesConfig.cmake ${cmake_dir}/ServerFixturesConfigVersion.cmake
               ${cmake_dir}/ServerFixturesCoreTargets.cmake ${cmake_dir}/ServerFixturesGTestTargets.cmake
               ${cmake_dir}/FixturesDependencies.cmake ${cmake_dir}/FixturesAddTest.cmake
               usr/${LIBDIR}/pkgconfig/serverfixtures.pc usr/${LIBDIR}/pkgconfig/serverfixtures-gtest.pc)
    if(NOT EXISTS ${root}/${file})
      message(FATAL_ERROR "the .deb has no ${file}")
    endif()
  endforeach()
  message(STATUS "packaging: ${deb} built and unpacked into ${root}")

elseif(MODE STREQUAL "readme")
  # The code block of README.md's "## Example", as a user copies it.
  file(READ ${SOURCE_DIR}/README.md readme)
  string(FIND "${readme}" "\n## Example\n" at)
  if(at LESS 0)
    message(FATAL_ERROR "README.md has no '## Example' section")
  endif()
  string(SUBSTRING "${readme}" ${at} -1 section)
  string(SUBSTRING "${section}" 1 -1 section)  # from "## Example" to the next section
  string(FIND "${section}" "\n## " next)
  if(next GREATER 0)
    string(SUBSTRING "${section}" 0 ${next} section)
  endif()
  string(FIND "${section}" "\n```cpp\n" begin)
  if(begin LESS 0)
    message(FATAL_ERROR "README.md's '## Example' has no ```cpp block")
  endif()
  math(EXPR begin "${begin} + 8")
  string(SUBSTRING "${section}" ${begin} -1 section)
  string(FIND "${section}" "\n```" end)
  if(end LESS 0)
    message(FATAL_ERROR "README.md's '## Example' block does not end")
  endif()
  string(SUBSTRING "${section}" 0 ${end} example)
  file(REMOVE_RECURSE ${WORK_DIR})
  file(WRITE ${WORK_DIR}/example_test.cpp "${example}\n")

  run("configure the README example against ${root}"
      ${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/packaging/readme -B ${WORK_DIR}/build
      -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH=${root}/usr -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
      -DEXAMPLE_SOURCE=${WORK_DIR}/example_test.cpp -DEXPECTED_PREFIX=${root}/usr)
  run("build the README example" ${CMAKE_COMMAND} --build ${WORK_DIR}/build -j2)
  run("ctest of the README example"
      ${CMAKE_CTEST_COMMAND} --test-dir ${WORK_DIR}/build --output-on-failure --no-tests=error)
  if(NOT out MATCHES "100% tests passed, 0 tests failed out of [1-9]")
    message(FATAL_ERROR "the README example's test did not run and pass:\n${out}")
  endif()
  message(STATUS "README example built against the .deb and passed")

elseif(MODE STREQUAL "meson")
  find_program(MESON meson)
  if(NOT MESON)
    message(STATUS "packaging.meson skipped: meson not found (scripts/install-deps.sh installs it)")
    return()
  endif()
  file(REMOVE_RECURSE ${WORK_DIR})
  # Only the unpacked package's .pc files besides the system's (cpp-httplib, gtest).
  set(ENV{PKG_CONFIG_PATH} ${root}/usr/${LIBDIR}/pkgconfig)
  set(ENV{FIXTURES_LOG_DIR} ${WORK_DIR}/logs)
  run("meson setup" ${MESON} setup ${WORK_DIR}/build ${SOURCE_DIR}/tests/packaging/meson -Dunpacked=${root})
  run("meson compile" ${MESON} compile -C ${WORK_DIR}/build)
  run("meson test" ${MESON} test -C ${WORK_DIR}/build --print-errorlogs)
  if(NOT out MATCHES "Ok: +2[ \n]")
    message(FATAL_ERROR "meson test did not pass its 2 tests:\n${out}")
  endif()
  message(STATUS "Meson consumer built against the .deb's pkg-config files and passed")

else()
  message(FATAL_ERROR "MODE must be package, readme or meson")
endif()
