// Tests for the DNS wire-format encoder and reply parser. Replies are built
// byte by byte here (including broken and hostile ones); well-formed replies
// from a real server are covered by dns_probe_test.cc against dnsmasq.
#include "mamori/net/dns_message.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mamori::dns {
namespace {

using Bytes = std::vector<uint8_t>;

void Put16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}

void PutName(Bytes& b, const std::string& name) {
  size_t start = 0;
  while (start < name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    b.push_back(static_cast<uint8_t>(dot - start));
    b.insert(b.end(), name.begin() + static_cast<long>(start),
             name.begin() + static_cast<long>(dot));
    start = dot + 1;
  }
  b.push_back(0);
}

// Header + question for `name`/`qtype`; answers are appended by the test.
Bytes ReplyHead(uint16_t id, uint16_t flags, uint16_t ancount, const std::string& name,
                uint16_t qtype = kTypeA) {
  Bytes b;
  Put16(b, id);
  Put16(b, flags);
  Put16(b, 1);
  Put16(b, ancount);
  Put16(b, 0);
  Put16(b, 0);
  PutName(b, name);
  Put16(b, qtype);
  Put16(b, 1);
  return b;
}

constexpr uint16_t kOkFlags = 0x8180;     // QR, RD, RA, NOERROR
constexpr uint8_t kQname[] = {0xC0, 12};  // pointer to the question's name

void PutA(Bytes& b, const uint8_t owner_ptr[2], uint8_t a, uint8_t bb, uint8_t c, uint8_t d) {
  b.insert(b.end(), owner_ptr, owner_ptr + 2);
  Put16(b, kTypeA);
  Put16(b, 1);
  Put16(b, 0);
  Put16(b, 60);
  Put16(b, 4);
  b.insert(b.end(), {a, bb, c, d});
}

TEST(DnsMessageTest, EncodesQuery) {
  auto q = EncodeQuery(0xBEEF, "Test.Example.", kTypeAaaa);
  ASSERT_TRUE(q.ok()) << q.error().message();
  const Bytes want = {0xBE, 0xEF, 0x01, 0x00, 0,   1,   0,   0,   0,   0,   0, 0, 4,  'T', 'e',
                      's',  't',  7,    'E',  'x', 'a', 'm', 'p', 'l', 'e', 0, 0, 28, 0,   1};
  EXPECT_EQ(*q, want);
  EXPECT_FALSE(EncodeQuery(1, "", kTypeA).ok());
  EXPECT_FALSE(EncodeQuery(1, "a..b", kTypeA).ok());
  EXPECT_FALSE(EncodeQuery(1, std::string(64, 'a') + ".example", kTypeA).ok());
  EXPECT_TRUE(EncodeQuery(1, std::string(63, 'a') + ".example", kTypeA).ok());
}

TEST(DnsMessageTest, ParsesAddressesAndComparesNamesCaseInsensitively) {
  Bytes b = ReplyHead(7, kOkFlags | 0x0400, 2, "WWW.test.example");
  PutA(b, kQname, 10, 1, 2, 3);
  PutA(b, kQname, 10, 1, 2, 4);
  auto r = ParseReply(b, "www.TEST.example.", kTypeA);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->id, 7);
  EXPECT_EQ(r->rcode, kRcodeNoError);
  EXPECT_TRUE(r->authoritative);
  EXPECT_FALSE(r->truncated);
  ASSERT_EQ(r->addresses.size(), 2u);
  EXPECT_EQ(r->addresses[0].to_string(), "10.1.2.3");
  EXPECT_EQ(r->addresses[1].to_string(), "10.1.2.4");
  EXPECT_EQ(PeekId(b), 7);
}

TEST(DnsMessageTest, FollowsCnameChainAndIgnoresUnrelatedRecords) {
  Bytes b = ReplyHead(1, kOkFlags, 3, "alias.example");
  // alias.example CNAME real.example (the target's suffix compressed).
  b.insert(b.end(), kQname, kQname + 2);
  Put16(b, kTypeCname);
  Put16(b, 1);
  Put16(b, 0);
  Put16(b, 60);
  Put16(b, 7);
  b.insert(b.end(), {4, 'r', 'e', 'a', 'l', 0xC0, 18});  // 18: "example" in the question
  const uint8_t real_ptr[2] = {0xC0, static_cast<uint8_t>(b.size() - 7)};
  PutA(b, real_ptr, 192, 0, 2, 1);
  // An address for some other owner must not count.
  const uint8_t other_ptr[2] = {0xC0, 18};  // "example"
  PutA(b, other_ptr, 192, 0, 2, 99);
  auto r = ParseReply(b, "alias.example", kTypeA);
  ASSERT_TRUE(r.ok()) << r.error().message();
  ASSERT_EQ(r->cname_chain, std::vector<std::string>{"real.example"});
  ASSERT_EQ(r->addresses.size(), 1u);
  EXPECT_EQ(r->addresses[0].to_string(), "192.0.2.1");
}

TEST(DnsMessageTest, ErrorRcodesAreReportedNotParsed) {
  Bytes nx = ReplyHead(3, 0x8183, 0, "gone.example");
  auto r = ParseReply(nx, "gone.example", kTypeA);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->rcode, kRcodeNxDomain);
  EXPECT_EQ(RcodeText(r->rcode), "NXDOMAIN (no such name)");
  // REFUSED without a question section is accepted.
  Bytes refused = {0, 3, 0x81, 0x85, 0, 0, 0, 0, 0, 0, 0, 0};
  auto rr = ParseReply(refused, "x.example", kTypeA);
  ASSERT_TRUE(rr.ok()) << rr.error().message();
  EXPECT_EQ(rr->rcode, 5);
  Bytes noerror_no_q = {0, 3, 0x81, 0x80, 0, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_FALSE(ParseReply(noerror_no_q, "x.example", kTypeA).ok());
}

std::string ParseError(const Bytes& b, const std::string& name = "a.example",
                       uint16_t qtype = kTypeA) {
  auto r = ParseReply(b, name, qtype);
  return r.ok() ? "(parsed)" : r.error().message();
}

TEST(DnsMessageTest, RejectsMalformedReplies) {
  EXPECT_EQ(ParseError(Bytes(11, 0)), "11 bytes is shorter than a DNS header");
  EXPECT_EQ(ParseError(ReplyHead(1, 0x0100, 0, "a.example")), "not a reply (QR bit clear)");
  EXPECT_EQ(ParseError(ReplyHead(1, kOkFlags, 0, "b.example")),
            "reply is for 'b.example' A, not the question asked");
  EXPECT_EQ(ParseError(ReplyHead(1, kOkFlags, 0, "a.example", kTypeAaaa)),
            "reply is for 'a.example' AAAA, not the question asked");
  // The answer count claims more records than there are bytes.
  Bytes short_answers = ReplyHead(1, kOkFlags, 3, "a.example");
  PutA(short_answers, kQname, 1, 2, 3, 4);
  EXPECT_EQ(ParseError(short_answers), "answer 2: name runs past the end of the message");
  // An A record whose data is not 4 bytes.
  Bytes bad_a = ReplyHead(1, kOkFlags, 1, "a.example");
  PutA(bad_a, kQname, 1, 2, 3, 4);
  bad_a[bad_a.size() - 5] = 3;  // rdlength 4 -> 3
  EXPECT_EQ(ParseError(bad_a), "A record with 3 bytes of data");
  // rdlength beyond the message.
  Bytes long_rd = ReplyHead(1, kOkFlags, 1, "a.example");
  PutA(long_rd, kQname, 1, 2, 3, 4);
  long_rd[long_rd.size() - 5] = 200;
  EXPECT_EQ(ParseError(long_rd), "answer 1 data runs past the end of the message");
}

TEST(DnsMessageTest, RejectsCompressionPointerLoops) {
  // An answer owner that points at itself.
  Bytes self = ReplyHead(1, kOkFlags, 1, "a.example");
  const uint8_t at = static_cast<uint8_t>(self.size());
  const uint8_t self_ptr[2] = {0xC0, at};
  PutA(self, self_ptr, 1, 2, 3, 4);
  EXPECT_EQ(ParseError(self), "answer 1: compression pointer does not point backwards");
  // A pointer that points forward.
  Bytes fwd = ReplyHead(1, kOkFlags, 1, "a.example");
  const uint8_t fwd_ptr[2] = {0xC0, 200};
  PutA(fwd, fwd_ptr, 1, 2, 3, 4);
  EXPECT_EQ(ParseError(fwd), "answer 1: compression pointer does not point backwards");
  // Two names pointing at each other: "x" + ptr(B) at A, ptr(A+0) at B; each
  // pointer is "backwards" from where it sits, but the cycle is caught.
  Bytes loop = ReplyHead(1, kOkFlags, 1, "a.example");
  const uint8_t a = static_cast<uint8_t>(loop.size());
  loop.insert(loop.end(), {1, 'x', 0xC0, static_cast<uint8_t>(a)});  // label then ptr to itself
  loop.insert(loop.end(), {0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 1, 2, 3, 4});
  EXPECT_EQ(ParseError(loop), "answer 1: compression pointer does not point backwards");
  // A pointer in the question section (only the header lies before it).
  Bytes qptr = {0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 0, 0, 1, 0, 1};
  EXPECT_EQ(ParseError(qptr), "question: compression pointer into the header");
}

TEST(DnsMessageTest, RejectsOverlongNamesAndCnameLoops) {
  Bytes b;
  Put16(b, 1);
  Put16(b, kOkFlags);
  Put16(b, 1);
  for (int i = 0; i < 3; ++i) Put16(b, 0);
  for (int i = 0; i < 5; ++i) {  // 5 * 64 bytes > 255
    b.push_back(63);
    b.insert(b.end(), 63, 'a');
  }
  b.push_back(0);
  EXPECT_EQ(ParseError(b), "question: name longer than 255 bytes");

  // a.example CNAME b.a.example, b.a.example CNAME a.example.
  Bytes loop = ReplyHead(1, kOkFlags, 2, "a.example");
  loop.insert(loop.end(), kQname, kQname + 2);
  Put16(loop, kTypeCname);
  Put16(loop, 1);
  Put16(loop, 0);
  Put16(loop, 60);
  Put16(loop, 4);
  const uint8_t b_at = static_cast<uint8_t>(loop.size());
  loop.insert(loop.end(), {1, 'b', 0xC0, 12});
  loop.insert(loop.end(), {0xC0, b_at});
  Put16(loop, kTypeCname);
  Put16(loop, 1);
  Put16(loop, 0);
  Put16(loop, 60);
  Put16(loop, 2);
  loop.insert(loop.end(), {0xC0, 12});
  EXPECT_EQ(ParseError(loop), "CNAME loop at 'a.example'");
}

TEST(DnsMessageTest, TruncatedFlagIsReported) {
  Bytes b = ReplyHead(1, kOkFlags | 0x0200, 0, "a.example");
  auto r = ParseReply(b, "a.example", kTypeA);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->truncated);
  EXPECT_TRUE(r->addresses.empty());
}

}  // namespace
}  // namespace mamori::dns
