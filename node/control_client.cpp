#include "node/control_client.hpp"

#include <zmq.hpp>

#include "node/control_server.hpp"

namespace zswarm::node {

std::optional<nlohmann::json> ask_control(const std::string& socket_path, const nlohmann::json& request,
                                          std::chrono::milliseconds deadline) {
  static zmq::context_t ctx;  // thread-safe; one per process is enough
  zmq::socket_t s(ctx, zmq::socket_type::req);
  s.set(zmq::sockopt::linger, 0);
  s.set(zmq::sockopt::rcvtimeo, static_cast<int>(deadline.count()));
  s.set(zmq::sockopt::maxmsgsize, int64_t{256} << 20);  // a full registry listing fits
  s.connect("ipc://" + socket_path);
  s.send(zmq::buffer(request.dump()), zmq::send_flags::none);
  zmq::message_t answer;
  if (!s.recv(answer)) return std::nullopt;
  if (json_nesting_exceeds(answer.to_string_view(), 64)) return std::nullopt;
  auto j = nlohmann::json::parse(answer.to_string(), nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

}  // namespace zswarm::node
