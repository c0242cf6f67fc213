// Clang thread-safety annotations (as leveldb's port/thread_annotations.h):
// a field says which mutex guards it, a function which mutex it needs or
// takes. Clang checks them under -Wthread-safety (the clang builds turn it
// on); other compilers see nothing.
#pragma once

#if defined(__clang__) && !defined(SWIG)
#define ZSWARM_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define ZSWARM_THREAD_ANNOTATION(x)
#endif

#define CAPABILITY(x) ZSWARM_THREAD_ANNOTATION(capability(x))
#define SCOPED_CAPABILITY ZSWARM_THREAD_ANNOTATION(scoped_lockable)
#define GUARDED_BY(x) ZSWARM_THREAD_ANNOTATION(guarded_by(x))
#define PT_GUARDED_BY(x) ZSWARM_THREAD_ANNOTATION(pt_guarded_by(x))
#define REQUIRES(...) ZSWARM_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define EXCLUDES(...) ZSWARM_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define ACQUIRE(...) ZSWARM_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define RELEASE(...) ZSWARM_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define ASSERT_CAPABILITY(x) ZSWARM_THREAD_ANNOTATION(assert_capability(x))
#define NO_THREAD_SAFETY_ANALYSIS ZSWARM_THREAD_ANNOTATION(no_thread_safety_analysis)
