// The workers module speaks zswarm's one error model (zswarm/error.hpp):
// loader, supervisor and runtime fail with a zswarm::Error whose Errc has a
// stable name. This header only adds the module's Result alias and a factory.
#pragma once

#include <string>

#include <zswarm/error.hpp>
#include <zswarm/result.hpp>

namespace zswarm::workers {

template <class T>
using Result = zswarm::Result<T, Error>;

inline Unexpected<Error> make_error(Errc code, std::string detail = {}) {
  return fail(Error{code, std::move(detail)});
}

}  // namespace zswarm::workers
