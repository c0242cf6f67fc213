# Compile options for zswarm's own targets (never for third-party code).
set(ZSWARM_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor)
# Off by default so a user's build never fails on a newer compiler's warnings.
# Clang checks the GUARDED_BY/REQUIRES annotations (port/thread_annotations.hpp).
if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  list(APPEND ZSWARM_WARNINGS -Wthread-safety)
endif()
if(ZSWARM_WERROR)
  list(APPEND ZSWARM_WARNINGS -Werror)
endif()

if(ZSWARM_SANITIZE)
  add_compile_options(-fsanitize=${ZSWARM_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${ZSWARM_SANITIZE})
endif()

if(ZSWARM_LIBFUZZER)
  # Coverage feedback from our libraries too, not only from the fuzz targets.
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()

# zswarm_target(<target>): warnings (errors with ZSWARM_WERROR) and the shared settings.
function(zswarm_target target)
  target_compile_options(${target} PRIVATE ${ZSWARM_WARNINGS})
endfunction()
