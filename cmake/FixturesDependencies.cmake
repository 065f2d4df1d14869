# Finds what ServerFixtures needs. Shared by the build and by the installed package config
# (ServerFixturesConfig.cmake includes it), so both find the same things the same way.
include_guard(GLOBAL)
include(CMakeFindDependencyMacro)

find_package(Threads REQUIRED)

# Boost.Process v2 is header-only up to 1.85 (but needs Boost.Filesystem), a compiled library
# (Boost::process) from 1.86. Asio and Regex are header-only.
find_package(Boost 1.81 REQUIRED COMPONENTS filesystem)
if(NOT TARGET Boost::process AND Boost_VERSION VERSION_GREATER_EQUAL 1.86)
  find_package(Boost ${Boost_VERSION} REQUIRED COMPONENTS process filesystem)
endif()

# cpp-httplib: upstream installs a CMake package (httplib::httplib); Debian ships only a
# pkg-config file (cpp-httplib). Accept either and expose one name: fixtures_httplib.
if(NOT TARGET fixtures_httplib)
  find_package(httplib CONFIG QUIET)
  if(TARGET httplib::httplib)
    add_library(fixtures_httplib INTERFACE IMPORTED GLOBAL)
    set_target_properties(fixtures_httplib PROPERTIES INTERFACE_LINK_LIBRARIES httplib::httplib)
  else()
    find_package(PkgConfig REQUIRED)
    pkg_check_modules(FIXTURES_HTTPLIB REQUIRED IMPORTED_TARGET GLOBAL cpp-httplib)
    add_library(fixtures_httplib INTERFACE IMPORTED GLOBAL)
    set_target_properties(fixtures_httplib PROPERTIES INTERFACE_LINK_LIBRARIES PkgConfig::FIXTURES_HTTPLIB)
  endif()
endif()
