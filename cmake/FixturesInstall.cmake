# Install rules and the CMake package ServerFixtures (find_package(ServerFixtures)).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(FIXTURES_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/ServerFixtures)

install(TARGETS fixtures_core EXPORT ServerFixturesCoreTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS fixtures_gtest EXPORT ServerFixturesGTestTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/fixtures/include/fixtures
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT ServerFixturesCoreTargets NAMESPACE ServerFixtures:: DESTINATION ${FIXTURES_CMAKE_DIR})
install(EXPORT ServerFixturesGTestTargets NAMESPACE ServerFixtures:: DESTINATION ${FIXTURES_CMAKE_DIR})

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/ServerFixturesConfig.cmake.in
  ${PROJECT_BINARY_DIR}/ServerFixturesConfig.cmake INSTALL_DESTINATION ${FIXTURES_CMAKE_DIR})
# Which installed version satisfies find_package(ServerFixtures <wanted>): while the major
# version is 0, every minor release may break the API, so only the same 0.minor (with a patch at
# or above the one asked for; 0.9 does not satisfy 0.1, nor 0.1 a request for 0.0). From 1.0,
# semantic versioning: the same major version, at or above the one asked for.
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(_fixtures_compatibility SameMinorVersion)
else()
  set(_fixtures_compatibility SameMajorVersion)
endif()
write_basic_package_version_file(${PROJECT_BINARY_DIR}/ServerFixturesConfigVersion.cmake
  COMPATIBILITY ${_fixtures_compatibility})
install(FILES
  ${PROJECT_BINARY_DIR}/ServerFixturesConfig.cmake
  ${PROJECT_BINARY_DIR}/ServerFixturesConfigVersion.cmake
  ${PROJECT_SOURCE_DIR}/cmake/FixturesDependencies.cmake
  ${PROJECT_SOURCE_DIR}/cmake/FixturesAddTest.cmake
  DESTINATION ${FIXTURES_CMAKE_DIR})

include(FixturesPkgConfig)  # serverfixtures.pc, serverfixtures-gtest.pc
