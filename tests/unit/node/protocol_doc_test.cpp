// Golden bytes: every worked example in docs/protocol.md (the byte blocks,
// and the inline byte examples of request bodies) is read from the document
// itself, decoded by the codec it shows, and encoded back to the very same
// bytes. So the document cannot drift from the code.
#include <fstream>
#include <regex>
#include <sstream>

#include <gtest/gtest.h>

#include "bus/envelope.hpp"
#include "discovery/beacon.hpp"
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
std::string bytes_of(const std::string& text) {
  static const std::regex token(R"("[^"]*"|\S+)");
  static const std::regex hex("[0-9a-f]{2}");
  std::string out;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), token); it != std::sregex_iterator(); ++it) {
    std::string t = it->str();
    if (t.front() == '"') out += t.substr(1, t.size() - 2);
    else if (std::regex_match(t, hex)) out.push_back(static_cast<char>(std::stoi(t, nullptr, 16)));
    else return {};
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
  static const std::regex fence("```\n([\\s\\S]*?)```");
  for (auto it = std::sregex_iterator(doc.begin(), doc.end(), fence); it != std::sregex_iterator(); ++it) {
    std::string block = (*it)[1].str();
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
  static const std::regex inline_bytes(R"(`([0-9a-f]{2}(?: (?:[0-9a-f]{2}|"[^"]*"))+)`)");
  for (auto it = std::sregex_iterator(doc.begin(), doc.end(), inline_bytes); it != std::sregex_iterator(); ++it) {
    std::string b = bytes_of((*it)[1].str());
    // Only whole request bodies: fixmaps of a few fields (not field fragments).
    if (b.size() >= 16 && (static_cast<uint8_t>(b[0]) & 0xf0) == 0x80) ex.values.push_back(b);
  }
  return ex;
}

// A map body decodes as one of the tracker's bodies or an Entry, and that
// body's encoder gives the same bytes back. Returns which one, or "".
std::string decode_body(const std::string& b) {
  using namespace names::wire;
  if (auto r = decode_register_request(b); r && encode(*r) == b) return "register_request";
  if (auto r = decode_unregister_request(b); r && encode(*r) == b) return "unregister_request";
  if (auto r = decode_worker_message(b); r && encode(*r) == b) return "worker_message";
  if (auto r = decode_handoff_offer(b); r && encode(*r) == b) return "handoff_offer";
  if (auto e = registry::decode_entry(b); e && registry::encode(*e) == b) return "entry";
  auto a = decode_answer(b);
  if ((a || a.error().code != Errc::bad_message) && encode_answer(a) == b) return "answer";
  return "";
}

TEST(ProtocolDoc, EveryWorkedExampleDecodesAndEncodesBackToItsBytes) {
  auto doc = read_doc();
  ASSERT_FALSE(doc.empty()) << "cannot read " << ZSWARM_PROTOCOL_DOC;
  int beacons = 0, frames = 0, bodies = 0, clocks = 0;
  for (const auto& v : examples(doc).values) {
    const auto first = static_cast<uint8_t>(v[0]);
    if (v.rfind("ZSW", 0) == 0) {
      auto b = discovery::parse(v);
      ASSERT_TRUE(b) << "beacon example: " << discovery::to_string(b.error());
      EXPECT_EQ(discovery::encode(*b), v);
      ++beacons;
    } else if (first == 0x97) {
      auto e = bus::decode(v);
      ASSERT_TRUE(e) << "envelope example: " << bus::to_string(e.error());
      EXPECT_EQ(bus::encode(*e), v);
      if (e->type == bus::MessageType::registry_delta) {
        auto entry = registry::decode_entry(e->body);
        ASSERT_TRUE(entry) << registry::to_string(entry.error());
        EXPECT_EQ(registry::encode(*entry), e->body);
      } else if (static_cast<int>(e->type) <= 4) {
        EXPECT_TRUE(e->body.empty()) << bus::to_string(e->type) << " has a body";
      }
      ++frames;
    } else if ((first & 0xf0) == 0x80) {
      EXPECT_NE(decode_body(v), "") << "a map example that no body codec reads back byte for byte";
      ++bodies;
    } else if ((first & 0xf0) == 0x90) {
      auto c = registry::decode_vector_clock(v);
      ASSERT_TRUE(c) << registry::to_string(c.error());
      EXPECT_EQ(registry::encode(*c), v);
      ++clocks;
    } else {
      ADD_FAILURE() << "a byte example of no known kind, starting " << std::hex << int(first);
    }
  }
  // The document holds at least these; a parser that found nothing must fail.
  EXPECT_GE(beacons, 1);
  EXPECT_GE(frames, 5);
  EXPECT_GE(bodies, 4);
  EXPECT_GE(clocks, 1);
}

}  // namespace
}  // namespace zswarm
