#include "node/control_server.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <filesystem>
#include <memory>

#include "node/control_dir.hpp"

namespace zswarm::node {

ControlServer::ControlServer(zmq::context_t& ctx, bus::Reactor& reactor, std::string path, Handler handler,
                             Limits limits)
    : socket_(ctx, zmq::socket_type::router),
      reactor_(reactor),
      path_(std::move(path)),
      endpoint_("ipc://" + path_),
      handler_(std::move(handler)),
      limits_(limits) {}

bool json_nesting_exceeds(std::string_view text, int max) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') {
      if (++depth > max) return true;
    } else if (c == ']' || c == '}') {
      if (depth > 0) --depth;  // stray closers must not buy room for openers
    }
  }
  return false;
}

namespace {

// True if a live node answers on the socket: then it is not ours to take.
// A stale socket file (its process was killed) refuses a plain connect at
// once; only a listener is worth the ping and its 300 ms deadline.
bool nobody_listens(const std::string& path) {
  sockaddr_un addr{};
  if (path.size() >= sizeof addr.sun_path) return false;
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  bool refused = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 && errno == ECONNREFUSED;
  ::close(fd);
  return refused;
}

bool somebody_home(zmq::context_t& ctx, const std::string& path) {
  if (nobody_listens(path)) return false;
  const std::string endpoint = "ipc://" + path;
  zmq::socket_t probe(ctx, zmq::socket_type::req);
  probe.set(zmq::sockopt::linger, 0);
  probe.set(zmq::sockopt::rcvtimeo, 300);
  try {
    probe.connect(endpoint);
    probe.send(zmq::str_buffer(R"({"cmd":"ping"})"), zmq::send_flags::dontwait);
    zmq::message_t answer;
    return probe.recv(answer).has_value();
  } catch (const zmq::error_t&) {
    return false;
  }
}

}  // namespace

Result<std::unique_ptr<ControlServer>, std::string> ControlServer::open(zmq::context_t& ctx, bus::Reactor& reactor,
                                                                        const std::string& path,
                                                                        const std::string& group, Handler handler,
                                                                        Limits limits) {
  if (path.size() >= 100) return fail("control socket path too long (IPC allows ~100 bytes): " + path);
  // libzmq unlinks whatever is at the path before it binds: this leaves there
  // at most a stale socket of ours, in directories no one else can change.
  if (auto ready = prepare_control_dir(path, group); !ready) return fail(ready.error().detail);
  std::error_code ec;
  if (std::filesystem::exists(path, ec) && somebody_home(ctx, path))
    return fail("a node already answers on " + path + " (same name and cluster?)");
  std::unique_ptr<ControlServer> s(new ControlServer(ctx, reactor, path, std::move(handler), limits));
  try {
    s->socket_.set(zmq::sockopt::linger, 0);
    // A ROUTER drops answers past its high-water mark; a client that pipelines
    // thousands of requests must get every answer, so answers are not capped.
    // Requests are: a client past receive_hwm waits in its own queue.
    s->socket_.set(zmq::sockopt::sndhwm, 0);
    s->socket_.set(zmq::sockopt::rcvhwm, limits.receive_hwm);
    s->socket_.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(limits.max_request_bytes));
    s->socket_.bind(s->endpoint_);
  } catch (const zmq::error_t& e) {
    return fail("bind " + s->endpoint_ + ": " + e.what());
  }
  if (auto mode = restrict_control_socket(path, group); !mode) return fail(mode.error().detail);
  reactor.add(s->socket_, [raw = s.get()] { raw->on_readable(); });
  return s;
}

ControlServer::~ControlServer() {
  reactor_.remove(socket_);
  socket_.close();
  ::unlink(path_.c_str());
}

ControlServer::Json ControlServer::error(Errc code, const std::string& detail) {
  return Json{{"ok", false}, {"error", std::string(errc_name(code))}, {"detail", detail}};
}

void ControlServer::on_readable() {
  for (;;) {
    // A REQ client sends [id, "", body]; a DEALER may omit the empty frame.
    // More parts than that are drained unread: a request's cost is bounded.
    constexpr std::size_t kMaxParts = 3;
    std::vector<zmq::message_t> frames;
    zmq::message_t m;
    if (!socket_.recv(m, zmq::recv_flags::dontwait)) return;
    bool more = m.more();
    frames.push_back(std::move(m));
    bool too_many = false;
    while (more) {
      zmq::message_t part;
      if (!socket_.recv(part, zmq::recv_flags::dontwait)) break;
      more = part.more();
      if (frames.size() < kMaxParts) frames.push_back(std::move(part));
      else too_many = true;
    }
    if (frames.size() < 2) continue;
    auto envelope = std::make_shared<std::vector<std::string>>();
    for (std::size_t i = 0; i + 1 < frames.size(); ++i) envelope->push_back(frames[i].to_string());
    std::string body = frames.back().to_string();

    Reply reply = [this, envelope, done = std::make_shared<bool>(false)](const Json& answer) {
      if (*done) return;
      *done = true;
      // Worker replies are bytes: never let invalid UTF-8 break the answer.
      std::string text = answer.dump(-1, ' ', false, Json::error_handler_t::replace);
      for (const auto& f : *envelope) socket_.send(zmq::buffer(f), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
      socket_.send(zmq::buffer(text), zmq::send_flags::dontwait);
      reactor_.touch(socket_);  // a late answer is sent outside the handler
    };
    if (too_many) {
      reply(error(Errc::bad_request, "a request is one frame of JSON (after the routing frames)"));
      continue;
    }
    if (json_nesting_exceeds(body, limits_.max_json_depth)) {
      reply(error(Errc::bad_request, "JSON nested deeper than " + std::to_string(limits_.max_json_depth)));
      continue;
    }
    Json request = Json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (!request.is_object() || !request.contains("cmd") || !request["cmd"].is_string()) {
      reply(error(Errc::bad_request, "expected a JSON object with a string \"cmd\""));
      continue;
    }
    if (request["cmd"] == "ping") {
      reply(Json{{"ok", true}});
      continue;
    }
    try {
      handler_(request, reply);
    } catch (const Json::exception& e) {
      // A field of the wrong type: the client's mistake, never the node's end.
      reply(error(Errc::bad_request, e.what()));
    }
  }
}

}  // namespace zswarm::node
