#include "bus/memory_transport.hpp"

namespace zswarm::bus {

std::size_t MemoryNetwork::deliver(std::size_t limit) {
  std::size_t n = 0;
  while (!queue_.empty() && n < limit) {
    Frame f = std::move(queue_.front());
    queue_.pop_front();
    auto it = nodes_.find(f.to);
    if (it != nodes_.end() && it->second->receiver_) it->second->receiver_(std::move(f.in));
    ++n;
  }
  return n;
}

void MemoryNetwork::kill(const NodeId& peer) {
  for (auto& [id, t] : nodes_)
    if (t->connected_.count(peer)) {
      queue_.push_back({id, peer, Inbound{Inbound::link_down, peer, {}}});
      queue_.push_back({id, peer, Inbound{Inbound::peer_gone, peer, {}}});
    }
  auto it = nodes_.find(peer);
  if (it != nodes_.end()) {
    it->second->receiver_ = nullptr;
    nodes_.erase(it);
  }
}

MemoryTransport::MemoryTransport(MemoryNetwork& net, const NodeId& self) : net_(net), self_(self) {
  net_.nodes_[self_] = this;
}

MemoryTransport::~MemoryTransport() {
  auto it = net_.nodes_.find(self_);
  if (it != net_.nodes_.end() && it->second == this) net_.nodes_.erase(it);
  for (auto& [id, t] : net_.nodes_) t->subscribers_.erase(self_);
}

void MemoryTransport::connect(const NodeId& peer, const PeerEndpoint&) {
  connected_.insert(peer);
  auto it = net_.nodes_.find(peer);
  if (it != net_.nodes_.end()) it->second->subscribers_.insert(self_);
}

void MemoryTransport::disconnect(const NodeId& peer) {
  connected_.erase(peer);
  auto it = net_.nodes_.find(peer);
  if (it != net_.nodes_.end()) it->second->subscribers_.erase(self_);
  // As ZmqTransport: what is still queued from its PUB to us, or from us to
  // it, goes with the link.
  std::erase_if(net_.queue_, [&](const MemoryNetwork::Frame& f) {
    return (f.to == self_ && f.from == peer && f.in.kind == Inbound::published) || (f.to == peer && f.from == self_);
  });
}

void MemoryTransport::publish(std::string_view frame) {
  for (const NodeId& s : subscribers_)
    net_.queue_.push_back({s, self_, Inbound{Inbound::published, self_, std::string(frame)}});
}

bool MemoryTransport::send(const NodeId& peer, std::string_view frame) {
  if (!connected_.count(peer) || !net_.nodes_.count(peer)) return false;
  net_.queue_.push_back({peer, self_, Inbound{Inbound::direct, self_, std::string(frame)}});
  return true;
}

}  // namespace zswarm::bus
