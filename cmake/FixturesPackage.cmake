# CPack: `cpack -G DEB` in a configured and built tree makes libserverfixtures-dev_<version>_<arch>.deb
# with what `cmake --install` installs (headers, the static libraries, the CMake package with
# fixtures_add_test, the pkg-config files) under /usr. Included by the top CMakeLists.txt when
# ServerFixtures is the top-level project (a parent project's CPack settings stay its own).
#
# Depends names the Debian packages a consumer needs to build against the package (the CMake
# config's find_dependency calls and the .pc files' Requires), at the versions this build was
# compiled with. Not alternatives across versions (libboost1.81-dev | libboost1.83-dev): the
# libraries are static archives compiled against those headers, so they link only with the
# same Boost.Filesystem release line (its exported symbols change: the path::append_v3 a 1.81
# build calls is detail::path_algorithms::append_v3 from 1.84), the same cpp-httplib 0.minor
# (its classes are our API; each 0.minor has its own soname) and the same GoogleTest minor
# release. A .deb is therefore built per distribution: on Debian 12 it names libboost1.81-dev
# and libboost-filesystem1.81-dev, on Ubuntu 24.04 libboost1.83-dev and
# libboost-filesystem1.83-dev (the versioned names both use; Debian 12's unversioned
# libboost-dev is 1.74). Alternatives where names differ for one thing: pkgconf | pkg-config
# (the CMake config finds Debian's cpp-httplib through pkg-config, non-CMake users need it).
# To name other packages, configure with -DCPACK_DEBIAN_PACKAGE_DEPENDS="...".
set(FIXTURES_DEB_MAINTAINER "ServerFixtures maintainers <serverfixtures@example.invalid>"
  CACHE STRING "Maintainer field of the .deb (Name <email>)")

# "<package> (>= A.B), <package> (<< A.B+1)": the A.B release line of <version>.
function(_fixtures_deb_same_minor out package version)
  if(NOT version MATCHES "^([0-9]+)\\.([0-9]+)")
    message(FATAL_ERROR "FixturesPackage: no version of ${package} known ('${version}'); "
                        "set CPACK_DEBIAN_PACKAGE_DEPENDS")
  endif()
  math(EXPR next "${CMAKE_MATCH_2} + 1")
  set(${out} "${package} (>= ${CMAKE_MATCH_1}.${CMAKE_MATCH_2}), ${package} (<< ${CMAKE_MATCH_1}.${next})"
      PARENT_SCOPE)
endfunction()

if(NOT DEFINED CPACK_DEBIAN_PACKAGE_DEPENDS)
  set(_boost "${Boost_VERSION_MAJOR}.${Boost_VERSION_MINOR}")
  set(_depends "libboost${_boost}-dev" "libboost-filesystem${_boost}-dev")
  if(TARGET Boost::process)
    list(APPEND _depends "libboost-process${_boost}-dev")
  endif()
  set(_httplib_version "${FIXTURES_HTTPLIB_VERSION}")
  if(TARGET httplib::httplib)
    set(_httplib_version "${httplib_VERSION}")
  endif()
  _fixtures_deb_same_minor(_httplib libcpp-httplib-dev "${_httplib_version}")
  _fixtures_deb_same_minor(_gtest libgtest-dev "${GTest_VERSION}")
  list(APPEND _depends "${_httplib}" "${_gtest}" "libgmock-dev" "pkgconf | pkg-config")
  list(JOIN _depends ", " CPACK_DEBIAN_PACKAGE_DEPENDS)
endif()

set(CPACK_GENERATOR "DEB" CACHE STRING "What plain `cpack` builds")
set(CPACK_PACKAGE_NAME "libserverfixtures-dev")
set(CPACK_PACKAGE_VENDOR "ServerFixtures")
set(CPACK_PACKAGE_CONTACT "${FIXTURES_DEB_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "C++20 library to run real servers in integration tests")
string(CONCAT CPACK_PACKAGE_DESCRIPTION
  "ServerFixtures launches a server under test as a child process, captures its output into a\n"
  "timestamped log, waits until it is ready, hands tests an HTTP or line client, stops it\n"
  "cleanly, and prints the server's own lines under every test that fails.\n"
  "This package holds the headers, the static libraries ServerFixtures::core and\n"
  "ServerFixtures::gtest (GoogleTest glue), the CMake package (find_package(ServerFixtures),\n"
  "fixtures_add_test) and the pkg-config files serverfixtures and serverfixtures-gtest.")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_DEBIAN_PACKAGE_NAME "libserverfixtures-dev")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # libserverfixtures-dev_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION "libdevel")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "cmake (>= 3.21), meson")
# Static archives and headers only: no shared library, so no dpkg-shlibdeps (nor dpkg-dev).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS OFF)
# Never strip: a stripped static archive cannot be linked.
set(CPACK_STRIP_FILES OFF)

# `cpack --config CPackSourceConfig.cmake`: the sources without builds and git data.
set(CPACK_SOURCE_GENERATOR "TGZ")
set(CPACK_SOURCE_IGNORE_FILES "/build/" "/\\.git/" "/\\.git$" "fixtures-logs/")

include(CPack)
