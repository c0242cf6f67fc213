// What the integration tests' hand-written peers share: the port a ZeroMQ
// socket bound, and a UDP socket that reaches the loopback discovery scope
// (127.255.255.255, where every node's beacon socket listens) or one
// loopback port. Loopback only, as every test here.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <string_view>

#include <zmq.hpp>

namespace zswarm::testing {

inline uint16_t bound_port(zmq::socket_t& s) {
  std::string ep = s.get(zmq::sockopt::last_endpoint);
  return static_cast<uint16_t>(std::stoi(ep.substr(ep.rfind(':') + 1)));
}

class LoopbackUdp {
 public:
  LoopbackUdp() : fd_(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {
    int on = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_BROADCAST, &on, sizeof on);
  }
  ~LoopbackUdp() { ::close(fd_); }
  LoopbackUdp(const LoopbackUdp&) = delete;
  LoopbackUdp& operator=(const LoopbackUdp&) = delete;

  // To every socket bound to `port` on loopback (a beacon to all nodes).
  void broadcast(uint16_t port, std::string_view d) const { send(0x7fffffff, port, d); }  // 127.255.255.255
  void send_to(uint16_t port, std::string_view d) const { send(INADDR_LOOPBACK, port, d); }
  int fd() const { return fd_; }

 private:
  void send(uint32_t addr, uint16_t port, std::string_view d) const {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    to.sin_addr.s_addr = htonl(addr);
    ::sendto(fd_, d.data(), d.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  }
  int fd_;
};

}  // namespace zswarm::testing
