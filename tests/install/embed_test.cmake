# install.embed_example: install this build into a scratch prefix, build
# tests/install/embed_example against it with find_package(zswarm) and
# zswarm::node, then run it (it starts a loopback node and exits 0).
# Inputs: BUILD_DIR SOURCE_DIR WORK_DIR GENERATOR CXX_COMPILER
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

# run(<seconds> <command...>): a step that must exit 0 within its time.
function(run seconds)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err
    TIMEOUT ${seconds})
  if(NOT rc EQUAL 0)
    file(REMOVE_RECURSE ${WORK_DIR})
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(out "${out}" PARENT_SCOPE)
endfunction()

run(60 ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK_DIR}/prefix)
# Internal module headers must not leak into the installed tree.
file(GLOB leaked LIST_DIRECTORIES true ${WORK_DIR}/prefix/include/*)
if(NOT leaked STREQUAL "${WORK_DIR}/prefix/include/zswarm")
  file(REMOVE_RECURSE ${WORK_DIR})
  message(FATAL_ERROR "unexpected installed headers: ${leaked}")
endif()
run(60 ${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/install/embed_example -B ${WORK_DIR}/build
    -G ${GENERATOR} -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
    -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix -DCMAKE_BUILD_TYPE=Release)
run(120 ${CMAKE_COMMAND} --build ${WORK_DIR}/build)
run(30 ${WORK_DIR}/build/embed)
message(STATUS "${out}")
file(REMOVE_RECURSE ${WORK_DIR})
message(STATUS "embed example built against an installed zswarm and ran")
