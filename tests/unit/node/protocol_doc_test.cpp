// Golden bytes: every worked example in docs/protocol.md (the byte blocks,
// and the inline byte examples of request bodies) is read from the document
// itself, decoded by the codec it shows, and encoded back to the very same
// bytes. So the document cannot drift from the code.
#include <fstream>
#include <cctype>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "bus/envelope.hpp"
#include "discovery/beacon.hpp"
#include "discovery/gossip.hpp"
#include "names/tracker_wire.hpp"
#include "registry/entry.hpp"
#include "registry/vector_clock.hpp"

namespace zswarm {
namespace {

std::string read_doc() {
  std::ifstream in(ZSWARM_PROTOCOL_DOC);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Tokens are two hex digits (one byte) or a "quoted" string (its raw bytes).
// Empty when the text holds anything else: then it is no byte example.
// (No std::regex: GCC 12 warns inside libstdc++'s regex under sanitizers.)
std::string bytes_of(const std::string& text) {
  auto hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); };
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    if (std::isspace(static_cast<unsigned char>(text[i]))) {
      ++i;
    } else if (text[i] == '"') {
      auto end = text.find('"', i + 1);
      if (end == std::string::npos) return {};
      out += text.substr(i + 1, end - i - 1);
      i = end + 1;
    } else if (i + 1 < text.size() && hex(text[i]) && hex(text[i + 1]) &&
               (i + 2 == text.size() || std::isspace(static_cast<unsigned char>(text[i + 2])))) {
      out.push_back(static_cast<char>(std::stoi(text.substr(i, 2), nullptr, 16)));
      i += 2;
    } else {
      return {};
    }
  }
  return out;
}

struct Examples {
  std::vector<std::string> values;  // each one msgpack value, beacon or frame
};

// Fenced blocks without a language; a block of maps holds one value per
// unindented line (the answers of §5.1), any other block is one value.
Examples examples(const std::string& doc) {
  Examples ex;
  const std::string fence = "```\n";
  for (std::size_t at = doc.find(fence); at != std::string::npos;) {
    std::size_t start = at + fence.size();
    std::size_t end = doc.find("```", start);
    if (end == std::string::npos) break;
    std::string block = doc.substr(start, end - start);
    at = doc.find(fence, end + 3);
    std::string all = bytes_of(block);
    if (all.empty()) continue;
    if ((static_cast<uint8_t>(all[0]) & 0xf0) != 0x80) {
      ex.values.push_back(all);
      continue;
    }
    std::string current;
    std::istringstream lines(block);
    for (std::string line; std::getline(lines, line);) {
      if (!line.empty() && line[0] != ' ' && !current.empty()) {
        ex.values.push_back(bytes_of(current));
        current.clear();
      }
      current += line + "\n";
    }
    if (!current.empty()) ex.values.push_back(bytes_of(current));
  }
  // Inline `...` spans, outside the fenced blocks, that are whole request
  // bodies: fixmaps of some size.
  std::string prose;
  for (std::size_t at = 0; at < doc.size();) {
    std::size_t open = doc.find("```", at);
    prose += doc.substr(at, open == std::string::npos ? std::string::npos : open - at);
    if (open == std::string::npos) break;
    std::size_t close = doc.find("```", open + 3);
    at = close == std::string::npos ? doc.size() : close + 3;
  }
  for (std::size_t at = prose.find('`'); at != std::string::npos;) {
    std::size_t end = prose.find('`', at + 1);
    if (end == std::string::npos) break;
    std::string b = bytes_of(prose.substr(at + 1, end - at - 1));
    if (b.size() >= 16 && (static_cast<uint8_t>(b[0]) & 0xf0) == 0x80) ex.values.push_back(b);
    at = prose.find('`', end + 1);
  }
  return ex;
}

// A message's body, by its type, decodes and encodes back to its bytes.
void check_body(const bus::Envelope& e) {
  using bus::MessageType;
  using namespace names::wire;
  const std::string& b = e.body;
  const std::string type(bus::to_string(e.type));
  auto entry_roundtrips = [&](const std::string& bytes) {
    auto entry = registry::decode_entry(bytes);
    ASSERT_TRUE(entry) << type << ": " << registry::to_string(entry.error());
    EXPECT_EQ(registry::encode(*entry), bytes) << type;
  };
  switch (e.type) {
    case MessageType::heartbeat:
    case MessageType::goodbye:
    case MessageType::probe:
    case MessageType::probe_ack:
    case MessageType::probe_nack:
    case MessageType::sync_request: EXPECT_TRUE(b.empty()) << type << " has a body"; break;
    case MessageType::probe_request: {
      auto r = discovery::decode_probe_request(b);
      ASSERT_TRUE(r) << discovery::to_string(r.error());
      EXPECT_EQ(discovery::encode_probe_request(*r), b);
      break;
    }
    case MessageType::gossip: {
      auto u = discovery::decode_updates(b);
      ASSERT_TRUE(u) << discovery::to_string(u.error());
      EXPECT_EQ(discovery::encode_updates(*u), b);
      break;
    }
    case MessageType::registry_delta: entry_roundtrips(b); break;
    case MessageType::sync_snapshot: {
      auto s = registry::decode_snapshot(b);
      ASSERT_TRUE(s) << registry::to_string(s.error());
      EXPECT_EQ(registry::encode_snapshot(*s), b);
      break;
    }
    case MessageType::digest: {
      auto c = registry::decode_vector_clock(b);
      ASSERT_TRUE(c) << registry::to_string(c.error());
      EXPECT_EQ(registry::encode(*c), b);
      break;
    }
    case MessageType::register_request: {
      auto r = decode_register_request(b);
      ASSERT_TRUE(r) << registry::to_string(r.error());
      EXPECT_EQ(encode(*r), b);
      break;
    }
    case MessageType::unregister_request: {
      auto r = decode_unregister_request(b);
      ASSERT_TRUE(r) << registry::to_string(r.error());
      EXPECT_EQ(encode(*r), b);
      break;
    }
    case MessageType::worker_cast:
    case MessageType::worker_call:
    case MessageType::conflict_state: {
      auto r = decode_worker_message(b);
      ASSERT_TRUE(r) << registry::to_string(r.error());
      EXPECT_EQ(encode(*r), b);
      break;
    }
    case MessageType::quarantine: {
      auto r = decode_quarantine(b);
      ASSERT_TRUE(r) << registry::to_string(r.error());
      EXPECT_EQ(encode(*r), b);
      break;
    }
    case MessageType::handoff_offer: {
      auto r = decode_handoff_offer(b);
      ASSERT_TRUE(r) << registry::to_string(r.error());
      EXPECT_EQ(encode(*r), b);
      entry_roundtrips(r->entry);
      break;
    }
    case MessageType::register_reply:
    case MessageType::unregister_reply:
    case MessageType::worker_reply:
    case MessageType::handoff_done: {
      auto r = decode_answer(b);
      EXPECT_EQ(encode_answer(r), b) << type;
      if (r && (e.type == MessageType::register_reply || e.type == MessageType::handoff_done)) entry_roundtrips(*r);
      break;
    }
  }
}

// A map body decodes as one of the tracker's bodies or an Entry, and that
// body's encoder gives the same bytes back. Returns which one, or "".
std::string decode_body(const std::string& b) {
  using namespace names::wire;
  if (auto r = decode_register_request(b); r && encode(*r) == b) return "register_request";
  if (auto r = decode_unregister_request(b); r && encode(*r) == b) return "unregister_request";
  if (auto r = decode_worker_message(b); r && encode(*r) == b) return "worker_message";
  if (auto r = decode_handoff_offer(b); r && encode(*r) == b) return "handoff_offer";
  if (auto r = decode_quarantine(b); r && encode(*r) == b) return "quarantine";
  if (auto e = registry::decode_entry(b); e && registry::encode(*e) == b) return "entry";
  auto a = decode_answer(b);
  if ((a || a.error().code != Errc::bad_message) && encode_answer(a) == b) return "answer";
  return "";
}

TEST(ProtocolDoc, EveryWorkedExampleDecodesAndEncodesBackToItsBytes) {
  auto doc = read_doc();
  ASSERT_FALSE(doc.empty()) << "cannot read " << ZSWARM_PROTOCOL_DOC;
  int beacons = 0, frames = 0, bodies = 0;
  std::set<int> types;  // message types with a worked example
  for (const auto& v : examples(doc).values) {
    const auto first = static_cast<uint8_t>(v[0]);
    if (v.rfind("ZSW", 0) == 0) {
      auto b = discovery::parse(v);
      ASSERT_TRUE(b) << "beacon example: " << discovery::to_string(b.error());
      EXPECT_EQ(discovery::encode(*b), v);
      ++beacons;
    } else if (v.rfind("\x94\x02\xc4\x10", 0) == 0) {  // a frame: [2, sender(bin 16), ...]
      auto f = bus::decode_frame(v);
      ASSERT_TRUE(f) << "frame example: " << bus::to_string(f.error());
      bus::FrameBuilder again(f->messages[0].version, f->messages[0].sender, f->messages[0].incarnation);
      for (const auto& e : f->messages) {
        again.add(e.type, e.seq, e.corr, e.body);
        check_body(e);
        types.insert(static_cast<int>(e.type));
      }
      EXPECT_EQ(again.take(), v);
      ++frames;
    } else if ((first & 0xf0) == 0x80) {
      EXPECT_NE(decode_body(v), "") << "a map example that no body codec reads back byte for byte";
      ++bodies;
    } else if ((first & 0xf0) == 0x90) {
      auto c = registry::decode_vector_clock(v);
      ASSERT_TRUE(c) << registry::to_string(c.error());
      EXPECT_EQ(registry::encode(*c), v);
    } else {
      ADD_FAILURE() << "a byte example of no known kind, starting " << std::hex << int(first);
    }
  }
  // The document holds at least these; a parser that found nothing must fail.
  EXPECT_GE(beacons, 1);
  EXPECT_GE(frames, 5);
  for (int t = 1; t <= bus::kMaxMessageType; ++t) {
    if (!bus::to_string(static_cast<bus::MessageType>(t)).empty()) {
      EXPECT_TRUE(types.count(t)) << bus::to_string(static_cast<bus::MessageType>(t)) << " has no worked example";
    }
  }
  EXPECT_GE(bodies, 3);  // the answers of §5.1 and the inline request bodies
}

}  // namespace
}  // namespace zswarm
