// The tracker's request and answer bodies: round trips, the documented bytes
// (docs/protocol.md §5.1, §5.8, §5.10), and rejection of every malformed or
// hostile shape, each as a DecodeError rather than a crash or a default.
#include "names/tracker_wire.hpp"

#include <gtest/gtest.h>

#include "registry/entry.hpp"

namespace zswarm::names::wire {
namespace {

using registry::DecodeErrc;

// Builds bytes from a mix of hex bytes and quoted text, as the docs show them.
struct Bytes {
  std::string out;
  Bytes& h(std::initializer_list<int> bytes) {
    for (int b : bytes) out.push_back(static_cast<char>(b));
    return *this;
  }
  Bytes& s(std::string_view text) {  // fixstr
    out.push_back(static_cast<char>(0xa0 | text.size()));
    out += text;
    return *this;
  }
};

std::string nested_arrays(std::size_t depth) {  // [[[...]]] as a map value
  Bytes b;
  b.h({0x81}).s("name");
  b.out.append(depth, static_cast<char>(0x91));
  b.h({0xc0});
  return b.out;
}

TEST(TrackerWire, RegisterRequestRoundTripsAndMatchesTheDocumentedBytes) {
  RegisterRequest r{"counter1", "counter", "5"};
  std::string bytes = encode(r);
  // §5.8: 83 a4 "args" c4 01 35 a4 "name" a8 "counter1" a6 "plugin" a7 "counter"
  Bytes doc;
  doc.h({0x83}).s("args").h({0xc4, 0x01, 0x35}).s("name").s("counter1").s("plugin").s("counter");
  EXPECT_EQ(bytes, doc.out);
  EXPECT_EQ(bytes.size(), 38u);
  auto back = decode_register_request(bytes);
  ASSERT_TRUE(back) << registry::to_string(back.error());
  EXPECT_EQ(back->name, "counter1");
  EXPECT_EQ(back->plugin, "counter");
  EXPECT_EQ(back->args, "5");
}

TEST(TrackerWire, WorkerMessageRoundTripsAndMatchesTheDocumentedBytes) {
  std::string bytes = encode(WorkerMessage{"counter1", "get", 1, {}});
  // §5.10: 83 a4 "hops" 01 a7 "message" c4 03 "get" a4 "name" a8 "counter1"
  Bytes doc;
  doc.h({0x83}).s("hops").h({0x01}).s("message").h({0xc4, 0x03, 'g', 'e', 't'}).s("name").s("counter1");
  EXPECT_EQ(bytes, doc.out);
  auto back = decode_worker_message(bytes);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->name, "counter1");
  EXPECT_EQ(back->message, "get");
  EXPECT_EQ(back->hops, 1u);
  // Payloads are opaque bytes: zeros and invalid UTF-8 survive.
  std::string raw("\0\xff\xfe", 3);
  auto raw_back = decode_worker_message(encode(WorkerMessage{"n", raw, 2, {}}));
  ASSERT_TRUE(raw_back);
  EXPECT_EQ(raw_back->message, raw);
}

TEST(TrackerWire, AWorkerMessageToARefCarriesTheRefInsteadOfTheName) {
  std::string bytes = encode(WorkerMessage{"", "get", 1, "b@host/5fb2760f.4"});
  // §5.10: 83 a4 "hops" 01 a7 "message" c4 03 "get" a3 "ref" b1 "b@host/5fb2760f.4"
  Bytes doc;
  doc.h({0x83}).s("hops").h({0x01}).s("message").h({0xc4, 0x03, 'g', 'e', 't'}).s("ref").s("b@host/5fb2760f.4");
  EXPECT_EQ(bytes, doc.out);
  auto back = decode_worker_message(bytes);
  ASSERT_TRUE(back) << registry::to_string(back.error());
  EXPECT_EQ(back->ref, "b@host/5fb2760f.4");
  EXPECT_TRUE(back->name.empty());

  // Exactly one target: a name and a REF together, neither, or an empty REF
  // are refused.
  Bytes both, neither, empty;
  both.h({0x84}).s("hops").h({0x01}).s("message").h({0xc4, 0x00}).s("name").s("c").s("ref").s("b@host/5fb2760f.4");
  neither.h({0x82}).s("hops").h({0x01}).s("message").h({0xc4, 0x00});
  empty.h({0x83}).s("hops").h({0x01}).s("message").h({0xc4, 0x00}).s("ref").s("");
  auto b = decode_worker_message(both.out);
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code, registry::DecodeErrc::invalid_value);
  auto n = decode_worker_message(neither.out);
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error().code, registry::DecodeErrc::missing_field);
  auto e = decode_worker_message(empty.out);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, registry::DecodeErrc::invalid_value);
}

TEST(TrackerWire, UnregisterRequestRoundTrips) {
  auto back = decode_unregister_request(encode(UnregisterRequest{"x"}));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->name, "x");
}

TEST(TrackerWire, QuarantineRoundTripsAndRefusesIdsOfAnotherSize) {
  const Quarantine q{std::string(16, 'q'), 3, std::string(16, 'a')};
  auto d = decode_quarantine(encode(q));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->id, q.id);
  EXPECT_EQ(d->members, 3u);
  EXPECT_EQ(d->lowest, q.lowest);
  // Every field is required, and an id is 16 bytes at most.
  EXPECT_FALSE(decode_quarantine(encode(Quarantine{std::string(17, 'q'), 3, std::string(16, 'a')})).ok());
  EXPECT_FALSE(decode_unregister_request(encode(q)).ok());  // another body's keys
  EXPECT_FALSE(decode_quarantine(encode(UnregisterRequest{"x"})).ok());
}

TEST(TrackerWire, SyncRequestIsEmptyForAWholeReplicaAndAMapForAHello) {
  EXPECT_EQ(encode(SyncRequest{}), "");  // the version 2 form: ask for everything
  auto whole = decode_sync_request("");
  ASSERT_TRUE(whole);
  EXPECT_TRUE(whole->snapshot);
  std::string hello = encode(SyncRequest{false});
  EXPECT_EQ(hello, std::string("\x81\xa8" "snapshot" "\xc2", 11));
  auto back = decode_sync_request(hello);
  ASSERT_TRUE(back);
  EXPECT_FALSE(back->snapshot);
  // The key is optional (default true); unknown keys are skipped and counted.
  uint64_t skipped = 0;
  auto later = decode_sync_request(std::string("\x81\xa5" "later" "\x01", 8), &skipped);
  ASSERT_TRUE(later);
  EXPECT_TRUE(later->snapshot);
  EXPECT_EQ(skipped, 1u);
  // Malformed: not a map, a mistyped field, trailing bytes.
  EXPECT_FALSE(decode_sync_request("\x91\x01"));
  EXPECT_FALSE(decode_sync_request(std::string("\x81\xa8" "snapshot" "\x01", 11)));
  EXPECT_FALSE(decode_sync_request(hello + "x"));
}

TEST(TrackerWire, SyncRequestForTheOwnedPartIsOneKey) {
  const std::string owned = encode(SyncRequest{true, true});
  EXPECT_EQ(owned, std::string("\x81\xa5" "owned" "\xc3", 8));
  auto back = decode_sync_request(owned);
  ASSERT_TRUE(back);
  EXPECT_TRUE(back->snapshot);
  EXPECT_TRUE(back->owned);
  EXPECT_FALSE(decode_sync_request("")->owned);  // optional, default false
  EXPECT_FALSE(decode_sync_request(std::string("\x81\xa5" "owned" "\x01", 8)));  // not a bool
}

TEST(TrackerWire, HandoffOfferRoundTripsWholeAndInParts) {
  HandoffOffer whole{"entry-bytes", "state", "state-bytes", 0, 1};
  auto w = decode_handoff_offer(encode(whole));
  ASSERT_TRUE(w);
  EXPECT_EQ(w->entry, "entry-bytes");
  EXPECT_EQ(w->kind, "state");
  EXPECT_EQ(w->state, "state-bytes");
  EXPECT_EQ(w->parts, 1u);
  // A whole offer keeps the three documented keys only.
  EXPECT_EQ(static_cast<unsigned char>(encode(whole)[0]), 0x83);

  HandoffOffer part{"e", "state", "slice", 2, 5};
  auto p = decode_handoff_offer(encode(part));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->part, 2u);
  EXPECT_EQ(p->parts, 5u);
  EXPECT_EQ(p->state, "slice");

  EXPECT_FALSE(decode_handoff_offer(encode(HandoffOffer{"e", "state", "", 5, 5})));  // part past the end
  EXPECT_FALSE(decode_handoff_offer(encode(HandoffOffer{"e", "state", "", 0, 0})));
  EXPECT_FALSE(decode_handoff_offer(encode(HandoffOffer{"e", "state", "", 0, kMaxHandoffParts + 1})));
}

TEST(TrackerWire, AnswersMatchTheDocumentedBytes) {
  // §5.1: 82 a2 "ok" c3 a5 "value" c4 08 "b@host/1"
  Bytes ok;
  ok.h({0x82}).s("ok").h({0xc3}).s("value").h({0xc4, 0x08});
  ok.out += "b@host/1";
  EXPECT_EQ(encode_answer(std::string("b@host/1")), ok.out);
  EXPECT_EQ(ok.out.size(), 21u);
  auto v = decode_answer(ok.out);
  ASSERT_TRUE(v);
  EXPECT_EQ(*v, "b@host/1");

  // 83 a6 "detail" a8 "b@host/1" a5 "error" b2 "already_registered" a2 "ok" c2
  Bytes refused;
  refused.h({0x83}).s("detail").s("b@host/1").s("error").s("already_registered").s("ok").h({0xc2});
  EXPECT_EQ(encode_answer(fail(Error{Errc::already_registered, "b@host/1"})), refused.out);
  EXPECT_EQ(refused.out.size(), 46u);
  auto e = decode_answer(refused.out);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().name(), "already_registered");
  EXPECT_EQ(e.error().detail, "b@host/1");
}

TEST(TrackerWire, MalformedAnswersAreBadMessage) {
  for (const std::string& body : {std::string(), std::string("\xc0"), Bytes().h({0x80}).out,
                                  Bytes().h({0x81}).s("ok").h({0xc3}).out,  // ok without value
                                  Bytes().h({0x81}).s("ok").h({0xc2}).out,  // error without code
                                  Bytes().h({0x81}).s("ok").h({0x01}).out, nested_arrays(100000)}) {
    auto r = decode_answer(body);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().name(), "bad_message");
  }
}

TEST(TrackerWire, KeysInAnyOrderAndUnknownKeysAreSkipped) {
  Bytes b;
  b.h({0x85}).s("plugin").s("echo").s("later").h({0x92, 0x01, 0x02}).s("name").s("x").s("args").h({0xc4, 0x00});
  b.s("other").s("v");
  auto r = decode_register_request(b.out);
  ASSERT_TRUE(r) << registry::to_string(r.error());
  EXPECT_EQ(r->name, "x");
  EXPECT_EQ(r->plugin, "echo");
}

TEST(TrackerWire, MissingOrMistypedFieldsAreErrorsNotDefaults) {
  // No hops: once defaulted to 0, now missing.
  Bytes no_hops;
  no_hops.h({0x82}).s("message").h({0xc4, 0x00}).s("name").s("x");
  auto m = decode_worker_message(no_hops.out);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, DecodeErrc::missing_field);

  Bytes str_args;  // args must be bin
  str_args.h({0x83}).s("args").s("5").s("name").s("x").s("plugin").s("echo");
  auto r = decode_register_request(str_args.out);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, DecodeErrc::wrong_type);

  Bytes negative_hops;
  negative_hops.h({0x83}).s("hops").h({0xff}).s("message").h({0xc4, 0x00}).s("name").s("x");
  EXPECT_FALSE(decode_worker_message(negative_hops.out));

  Bytes twice;
  twice.h({0x82}).s("name").s("x").s("name").s("y");
  auto t = decode_unregister_request(twice.out);
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().code, DecodeErrc::duplicate);

  Bytes int_key;
  int_key.h({0x81, 0x01}).s("x");
  EXPECT_FALSE(decode_unregister_request(int_key.out));

  std::string long_name(registry::kMaxNameBytes + 1, 'n');
  auto l = decode_unregister_request(encode(UnregisterRequest{long_name}));
  ASSERT_FALSE(l);
  EXPECT_EQ(l.error().code, DecodeErrc::too_large);

  EXPECT_FALSE(decode_unregister_request(encode(UnregisterRequest{"x"}) + "\x01"));  // trailing byte
  EXPECT_FALSE(decode_unregister_request(Bytes().h({0x91}).s("name").out));          // not a map
}

// The hostile shapes of the "every input bounded" issue, for every body type.
TEST(TrackerWire, DeepNestingAndHugeLengthHeadersAreRejectedCheaply) {
  std::vector<std::string> hostile = {
      nested_arrays(100000),
      Bytes().h({0xdd, 0xff, 0xff, 0xff, 0xff}).out,                           // array32 of 2^32-1
      Bytes().h({0xdf, 0xff, 0xff, 0xff, 0xff}).out,                           // map32 of 2^32-1
      Bytes().h({0x81}).s("name").h({0xdb, 0xff, 0xff, 0xff, 0xff}).out,      // str32 of 2^32-1
      Bytes().h({0x81}).s("message").h({0xc6, 0xff, 0xff, 0xff, 0xff}).out,   // bin32 of 2^32-1
      Bytes().h({0x81}).s("name").h({0xdd, 0xff, 0xff, 0xff, 0xff}).out,      // array32 inside
      Bytes().h({0xde, 0xff, 0xff}).out,                                       // map16 of 65535, no body
  };
  for (const auto& body : hostile) {
    EXPECT_FALSE(decode_register_request(body));
    EXPECT_FALSE(decode_unregister_request(body));
    EXPECT_FALSE(decode_worker_message(body));
    EXPECT_FALSE(decode_handoff_offer(body));
    EXPECT_FALSE(decode_answer(body));
    EXPECT_FALSE(registry::decode_entry(body));
    EXPECT_FALSE(registry::decode_snapshot(body));
    EXPECT_FALSE(registry::decode_vector_clock(body));
  }
}

TEST(TrackerWire, SnapshotChunksEachFitAndTogetherHoldEveryEntry) {
  std::vector<registry::Entry> entries;
  for (int i = 0; i < 3000; ++i) {
    registry::Entry e;
    e.name = "name-" + std::to_string(i);
    e.owner = std::string(32, 'a');
    e.owner_name = "a@h";
    e.worker = static_cast<uint64_t>(i + 1);
    e.plugin = "echo";
    e.args = std::string(200, 'x');
    e.clock.increment(e.owner, static_cast<uint64_t>(i + 1));
    entries.push_back(e);
  }
  auto chunks = registry::encode_snapshot_chunks(entries, 64 << 10);
  ASSERT_GT(chunks.size(), 5u);
  std::size_t total = 0;
  for (const auto& c : chunks) {
    EXPECT_LT(c.size(), (64u << 10) + 1024u);
    auto part = registry::decode_snapshot(c);
    ASSERT_TRUE(part) << registry::to_string(part.error());
    for (const auto& e : *part) EXPECT_EQ(e, entries[total++]);
  }
  EXPECT_EQ(total, entries.size());
  auto empty = registry::encode_snapshot_chunks({});
  ASSERT_EQ(empty.size(), 1u);
  EXPECT_EQ(registry::decode_snapshot(empty[0])->size(), 0u);
}

}  // namespace
}  // namespace zswarm::names::wire
