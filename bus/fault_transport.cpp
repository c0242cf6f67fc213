#include "bus/fault_transport.hpp"

namespace zswarm::bus {

FaultTransport::FaultTransport(std::unique_ptr<Transport> inner, const Clock& clock, uint64_t seed)
    : inner_(std::move(inner)), clock_(clock), rng_(seed) {
  inner_->set_receiver([this](Inbound&& in) {
    // A broken link is a fact about the world, not a frame: never faulted.
    if (in.kind == Inbound::link_down) {
      if (receiver_) receiver_(std::move(in));
      return;
    }
    // A refused connect is an answer from the peer's host: a cut loses it
    // (across a partition the connect times out), nothing else delays it.
    if (in.kind == Inbound::peer_gone) {
      if (plan_.cut_all || plan_.cut.count(in.peer)) ++stats_.cut;
      else if (receiver_) receiver_(std::move(in));
      return;
    }
    Held h{clock_.now(), Held::in, in.peer, std::move(in), {}};
    // A published frame names its publisher when the transport keeps a link
    // per peer: a cut from that peer loses it too, as a partition would.
    const NodeId* peer = h.peer.nil() ? nullptr : &h.peer;
    admit(std::move(h), peer);
  });
}

void FaultTransport::publish(std::string_view frame) {
  // `Inbound{}`, not `{}`: GCC 12 -O3 sees the latter's string as maybe-uninitialized (false positive).
  admit(Held{clock_.now(), Held::out_publish, NodeId(), Inbound{}, std::string(frame)}, nullptr);
}

bool FaultTransport::send(const NodeId& peer, std::string_view frame) {
  if (plan_.full.count(peer)) {
    ++stats_.refused;
    return false;  // like a DEALER at its high-water mark: nothing queued
  }
  admit(Held{clock_.now(), Held::out_send, peer, Inbound{}, std::string(frame)}, &peer);
  return true;  // like a real network: the sender cannot tell it was lost
}

bool FaultTransport::send_datagram(const NodeId& peer, std::string_view frame) {
  // A datagram is never refused for a full queue: UDP just drops.
  admit(Held{clock_.now(), Held::out_datagram, peer, Inbound{}, std::string(frame)}, &peer);
  return true;
}

void FaultTransport::admit(Held h, const NodeId* peer) {
  // Our published frames go to everyone: cut_all covers them (a cut from one
  // peer drops them where that peer receives them).
  if (plan_.cut_all || (peer && plan_.cut.count(*peer))) {
    ++stats_.cut;
    return;
  }
  if (chance(plan_.drop)) {
    ++stats_.dropped;
    return;
  }
  int copies = chance(plan_.duplicate) ? 2 : 1;
  if (copies == 2) ++stats_.duplicated;
  for (int i = 0; i < copies; ++i) {
    Held c = h;
    if (plan_.delay.count() > 0) {
      c.due = clock_.now() + plan_.delay;
      ++stats_.delayed;
      held_.push_back(std::move(c));
      continue;
    }
    if (!behind_ && chance(plan_.reorder)) {
      ++stats_.reordered;
      behind_ = std::make_unique<Held>(std::move(c));
      continue;
    }
    release(c);
    if (behind_) {
      auto late = std::move(behind_);
      release(*late);
    }
  }
}

void FaultTransport::release(Held& h) {
  ++stats_.passed;
  switch (h.dir) {
    case Held::out_publish: inner_->publish(h.frame); break;
    case Held::out_send: inner_->send(h.peer, h.frame); break;
    case Held::out_datagram: inner_->send_datagram(h.peer, h.frame); break;
    case Held::in:
      if (receiver_) receiver_(std::move(h.in_frame));
      break;
  }
}

void FaultTransport::tick(Clock::time_point now) {
  while (!held_.empty() && held_.front().due <= now) {
    Held h = std::move(held_.front());
    held_.pop_front();
    release(h);
  }
  inner_->tick(now);
}

}  // namespace zswarm::bus
