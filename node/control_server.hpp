// ControlServer: the node's local control socket (ZeroMQ ROUTER over IPC),
// used by the zswarm CLI and by tests. A request is one JSON object with a
// "cmd"; the answer is one JSON object with "ok" and either the result or
// "error" + "detail". Answers may come later (a cluster-wide operation): the
// handler gets a Reply it may call once, on the loop thread, at any time.
// Not thread-safe: owned by the node's event loop.
#pragma once

#include <functional>
#include <string>

#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "bus/reactor.hpp"
#include "zswarm/error.hpp"
#include "zswarm/result.hpp"

namespace zswarm::node {

class ControlServer {
 public:
  using Json = nlohmann::json;
  using Reply = std::function<void(const Json&)>;
  using Handler = std::function<void(const Json& request, Reply reply)>;

  // What one request may cost: its size (libzmq drops a client's connection
  // over it), requests queued, and the nesting of its JSON.
  struct Limits {
    std::size_t max_request_bytes = 1u << 20;
    int receive_hwm = 1000;
    int max_json_depth = 32;
  };

  // Binds ipc://path, in directories made and checked by
  // prepare_control_dir (control_dir.hpp); `group` empty: this user only,
  // else that group may connect too. Fails if another live node answers on
  // that path.
  static Result<std::unique_ptr<ControlServer>, std::string> open(zmq::context_t& ctx, bus::Reactor& reactor,
                                                                  const std::string& path, const std::string& group,
                                                                  Handler handler, Limits limits);
  ~ControlServer();
  const std::string& endpoint() const { return endpoint_; }

  // {"ok":false,"error":NAME,"detail":...}, NAME the code's stable name.
  static Json error(Errc code, const std::string& detail);

 private:
  ControlServer(zmq::context_t& ctx, bus::Reactor& reactor, std::string path, Handler handler, Limits limits);
  void on_readable();

  zmq::socket_t socket_;
  bus::Reactor& reactor_;
  std::string path_;
  std::string endpoint_;
  Handler handler_;
  Limits limits_;
};

// True when `text` nests arrays and objects deeper than `max` (strings are
// skipped). Linear, no recursion: run it before the JSON parser.
bool json_nesting_exceeds(std::string_view text, int max);

}  // namespace zswarm::node
