#include "support/future_wire.hpp"

#include <msgpack.hpp>
#include <stdexcept>

#include "bus/envelope.hpp"

namespace zswarm::sim {
namespace {

using Packer = msgpack::packer<msgpack::sbuffer>;

void pack_bin(Packer& pk, std::string_view s) {
  pk.pack_bin(static_cast<uint32_t>(s.size()));
  pk.pack_bin_body(s.data(), static_cast<uint32_t>(s.size()));
}

void pack_map_plus_one(Packer& pk, const msgpack::object& map) {
  pk.pack_map(map.via.map.size + 1);
  for (uint32_t i = 0; i < map.via.map.size; ++i) {
    pk.pack(map.via.map.ptr[i].key);
    pk.pack(map.via.map.ptr[i].val);
  }
  pk.pack(std::string("x_later"));
  pk.pack(std::string("a field of version 3"));
}

}  // namespace

std::string FutureWire::extend(std::string_view body) {
  if (body.empty()) return std::string(body);
  msgpack::object_handle oh = msgpack::unpack(body.data(), body.size());
  const msgpack::object& o = oh.get();
  msgpack::sbuffer buf;
  Packer pk(buf);
  if (o.type == msgpack::type::MAP) {
    pack_map_plus_one(pk, o);
  } else if (o.type == msgpack::type::ARRAY && o.via.array.size > 0 && o.via.array.ptr[0].type == msgpack::type::MAP) {
    pk.pack_array(o.via.array.size);  // a snapshot: every entry
    for (uint32_t i = 0; i < o.via.array.size; ++i) pack_map_plus_one(pk, o.via.array.ptr[i]);
  } else {
    return std::string(body);  // a vector clock (digest): positional, left alone
  }
  ++bodies_extended;
  return {buf.data(), buf.size()};
}

std::string FutureWire::rewrite(std::string_view frame, bool published, uint8_t& version) {
  auto f = bus::decode_frame(frame, {1, 255});
  if (!f) throw std::logic_error("FutureWire: the node sent a frame it cannot read back");
  const bus::Envelope& head = f->messages.front();
  version = head.version;
  msgpack::sbuffer buf;
  Packer pk(buf);
  pk.pack_array(5);
  pk.pack_uint8(head.version);
  pack_bin(pk, head.sender.bytes());
  pk.pack_uint64(head.incarnation);
  pk.pack_array(static_cast<uint32_t>(f->messages.size() + 1));
  for (const auto& e : f->messages) {
    pk.pack_array(5);
    pk.pack_uint8(static_cast<uint8_t>(e.type));
    pk.pack_uint64(published ? ++pub_seq_ : 0);
    pk.pack_uint64(e.corr);
    pack_bin(pk, extend(e.body));
    pk.pack(std::string("a message field of version 3"));
  }
  msgpack::sbuffer hint;
  Packer hk(hint);
  hk.pack_map(1);
  hk.pack(std::string("hint"));
  hk.pack(std::string("only version 3 reads this"));
  pk.pack_array(4);
  pk.pack_uint8(kNewType);
  pk.pack_uint64(published ? ++pub_seq_ : 0);
  pk.pack_uint64(0);
  pack_bin(pk, std::string_view(hint.data(), hint.size()));
  pk.pack(std::string("a frame field of version 3"));
  return {buf.data(), buf.size()};
}

void FutureWire::publish(std::string_view frame) {
  uint8_t v = 0;
  std::string out = rewrite(frame, true, v);
  pub_versions.insert(v);
  inner_->publish(out);
}

bool FutureWire::send(const bus::NodeId& peer, std::string_view frame) {
  uint8_t v = 0;
  std::string out = rewrite(frame, false, v);
  direct_versions[peer].insert(v);
  return inner_->send(peer, out);
}

std::string future_beacon(std::string d) {
  d[4] = static_cast<char>(static_cast<uint8_t>(d[4]) | 0x80);  // a flag this build does not know
  d.push_back(static_cast<char>(FutureWire::kBeaconExtension));
  std::string value = "a version 3 extension";
  d.push_back(static_cast<char>(value.size()));
  d += value;
  return d;
}

}  // namespace zswarm::sim
