/* ZSWARM_API marks the symbols of libzswarm that embedding programs may use;
 * everything else is built with hidden visibility. */
#ifndef ZSWARM_EXPORT_H
#define ZSWARM_EXPORT_H

#if defined(ZSWARM_BUILDING_NODE)
#define ZSWARM_API __attribute__((visibility("default")))
#else
#define ZSWARM_API
#endif

#endif /* ZSWARM_EXPORT_H */
