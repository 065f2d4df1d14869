# Finds what ServerFixtures needs. Shared by the build and by the installed package config
# (ServerFixturesConfig.cmake includes it), so both find the same things the same way.
#
# In the build, a missing dependency stops the configure. In the package config (which sets
# _FIXTURES_AS_PACKAGE first), each is found with find_dependency: without REQUIRED, a missing
# one makes find_package(ServerFixtures) set ServerFixtures_FOUND false with the reason in
# ServerFixtures_NOT_FOUND_MESSAGE and return; this file then leaves
# _fixtures_dependencies_found false for the config to stop reading too.
# No include guard: each find_package(ServerFixtures), in whatever directory, finds them again
# (cheap: cached), so its imported targets are visible there.
include(CMakeFindDependencyMacro)

set(_fixtures_dependencies_found FALSE)
if(_FIXTURES_AS_PACKAGE)
  # A macro, so find_dependency's return() leaves this file.
  macro(_fixtures_find_dependency)
    find_dependency(${ARGN})
  endmacro()
else()
  macro(_fixtures_find_dependency)
    find_package(${ARGN} REQUIRED)
  endmacro()
endif()

_fixtures_find_dependency(Threads)

# Boost.Process v2 is header-only up to 1.85 (but needs Boost.Filesystem), a compiled library
# (Boost::process) from 1.86. Asio and Regex are header-only.
_fixtures_find_dependency(Boost 1.81 COMPONENTS filesystem)
if(NOT TARGET Boost::process AND Boost_VERSION VERSION_GREATER_EQUAL 1.86)
  _fixtures_find_dependency(Boost ${Boost_VERSION} COMPONENTS process filesystem)
endif()

# cpp-httplib: upstream installs a CMake package (httplib::httplib); Debian ships only a
# pkg-config file (cpp-httplib). Accept either and expose one name: fixtures_httplib.
if(NOT TARGET fixtures_httplib)
  find_package(httplib CONFIG QUIET)
  if(TARGET httplib::httplib)
    add_library(fixtures_httplib INTERFACE IMPORTED GLOBAL)
    set_target_properties(fixtures_httplib PROPERTIES INTERFACE_LINK_LIBRARIES httplib::httplib)
  else()
    _fixtures_find_dependency(PkgConfig)
    if(_FIXTURES_AS_PACKAGE)
      set(_fixtures_quiet)
      if(ServerFixtures_FIND_QUIETLY)
        set(_fixtures_quiet QUIET)
      endif()
      pkg_check_modules(FIXTURES_HTTPLIB ${_fixtures_quiet} IMPORTED_TARGET GLOBAL cpp-httplib)
      if(NOT FIXTURES_HTTPLIB_FOUND)
        set(ServerFixtures_NOT_FOUND_MESSAGE "ServerFixtures could not be found because dependency cpp-httplib could not be found (neither its CMake package httplib nor pkg-config's cpp-httplib).")
        set(ServerFixtures_FOUND FALSE)
        return()
      endif()
    else()
      pkg_check_modules(FIXTURES_HTTPLIB REQUIRED IMPORTED_TARGET GLOBAL cpp-httplib)
    endif()
    add_library(fixtures_httplib INTERFACE IMPORTED GLOBAL)
    set_target_properties(fixtures_httplib PROPERTIES INTERFACE_LINK_LIBRARIES PkgConfig::FIXTURES_HTTPLIB)
  endif()
endif()

set(_fixtures_dependencies_found TRUE)
