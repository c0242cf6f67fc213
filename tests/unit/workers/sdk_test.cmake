# workers.sdk_example: install this build into a scratch prefix, build
# workers/sdk_example against it with find_package(zswarm), then run the
# SdkExample gtest, which loads the built plugin with the loader and calls it.
# Inputs: BUILD_DIR SOURCE_DIR WORK_DIR TEST_BIN GENERATOR CXX_COMPILER
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
endfunction()

run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK_DIR}/prefix)
run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/workers/sdk_example -B ${WORK_DIR}/build
    -G ${GENERATOR} -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
    -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix -DCMAKE_BUILD_TYPE=Release)
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
if(NOT EXISTS ${WORK_DIR}/build/libzswarm_greeter.so)
  message(FATAL_ERROR "the example did not produce libzswarm_greeter.so")
endif()
run(${CMAKE_COMMAND} -E env ZSWARM_SDK_PLUGIN_DIR=${WORK_DIR}/build
    ${TEST_BIN} --gtest_filter=SdkExample.* --gtest_fail_if_no_test_selected)
message(STATUS "sdk example built against ${WORK_DIR}/prefix and loaded")
