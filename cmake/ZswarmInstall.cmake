# Installs the public headers, the libraries embedding users link, and a
# package config so that `find_package(zswarm)` works out of tree.
include(CMakePackageConfigHelpers)

install(DIRECTORY include/zswarm DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS zswarm_api EXPORT zswarmTargets)
# zswarm::node and every library it links: each module's zswarm_<module>
# (static, so their private deps are exported link-only too) and the msgpack
# wrapper. Module headers stay uninstalled: include/zswarm/ is the public API.
set(ZSWARM_INSTALL_TARGETS msgpack-cxx)
foreach(module IN LISTS ZSWARM_ALL_MODULES)
  if(TARGET zswarm_${module})
    list(APPEND ZSWARM_INSTALL_TARGETS zswarm_${module})
  endif()
endforeach()
foreach(t IN LISTS ZSWARM_INSTALL_TARGETS)
  install(TARGETS ${t} EXPORT zswarmTargets
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endforeach()
install(EXPORT zswarmTargets NAMESPACE zswarm:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/zswarm)
configure_package_config_file(cmake/zswarmConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/zswarmConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/zswarm)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/zswarmConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/zswarmConfig.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/zswarmConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/zswarm)
