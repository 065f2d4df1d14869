# pkg-config files for projects that do not use CMake: serverfixtures.pc (ServerFixtures::core)
# and serverfixtures-gtest.pc (ServerFixtures::gtest), installed in <libdir>/pkgconfig.
# Included by FixturesInstall.cmake, after GNUInstallDirs.
#
# The libraries are static (unless BUILD_SHARED_LIBS), so what they link privately (Boost's
# compiled libraries, the threads library) is in Libs: `pkg-config --libs` without --static
# (Meson's dependency(), most Makefiles) reads Libs only. A shared build puts it in Libs.private. cpp-httplib ships a .pc on Debian (Requires; its types are in our API);
# Boost ships none, so its libraries are named directly, from where this build found them.
# GoogleTest's .pc is gtest.

# The install prefix seen from <prefix>/<libdir>/pkgconfig, so the files work wherever the tree
# is unpacked (dpkg -x, cmake --install --prefix): ${pcfiledir} is the file's own directory.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  message(FATAL_ERROR "FixturesPkgConfig: CMAKE_INSTALL_LIBDIR must be relative to the prefix, not ${CMAKE_INSTALL_LIBDIR}")
endif()
file(RELATIVE_PATH FIXTURES_PC_PREFIX_FROM_PCDIR "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
string(REGEX REPLACE "/$" "" FIXTURES_PC_PREFIX_FROM_PCDIR "${FIXTURES_PC_PREFIX_FROM_PCDIR}")

# -l<name> (and -L<dir> unless the linker searches it anyway) of an imported library target.
function(_fixtures_pc_link_flags out target)
  get_target_property(location ${target} LOCATION)
  get_filename_component(dir "${location}" DIRECTORY)
  get_filename_component(file "${location}" NAME)
  if(NOT file MATCHES "^lib(.+)\\.(so|a)(\\.[0-9.]+)?$")
    message(FATAL_ERROR "FixturesPkgConfig: cannot name ${target} (${location}) for pkg-config")
  endif()
  set(flags "-l${CMAKE_MATCH_1}")
  if(NOT dir IN_LIST CMAKE_CXX_IMPLICIT_LINK_DIRECTORIES)
    set(flags "-L${dir} ${flags}")
  endif()
  set(${out} "${flags}" PARENT_SCOPE)
endfunction()

set(_fixtures_pc_private "")
foreach(target Boost::filesystem Boost::process)
  if(TARGET ${target})
    _fixtures_pc_link_flags(flags ${target})
    string(APPEND _fixtures_pc_private " ${flags}")
  endif()
endforeach()
string(APPEND _fixtures_pc_private " -pthread")

get_target_property(_fixtures_core_type fixtures_core TYPE)
if(_fixtures_core_type STREQUAL "STATIC_LIBRARY")
  set(FIXTURES_PC_CORE_LIBS "${_fixtures_pc_private}")
  set(FIXTURES_PC_CORE_LIBS_PRIVATE "")
else()
  set(FIXTURES_PC_CORE_LIBS "")
  set(FIXTURES_PC_CORE_LIBS_PRIVATE "Libs.private:${_fixtures_pc_private}")
endif()

foreach(name serverfixtures serverfixtures-gtest)
  configure_file(${PROJECT_SOURCE_DIR}/cmake/${name}.pc.in ${PROJECT_BINARY_DIR}/pkgconfig/${name}.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/pkgconfig/${name}.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endforeach()
