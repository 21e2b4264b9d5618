// SNTP client tests: packet checks on crafted replies (the parser's edges
// cannot be provoked from a well-behaved server), and real exchanges with a
// real chronyd on loopback, once at our time and once under libfaketime
// three hours ahead.
#include "mamori/probes/sntp.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdlib>

#include "testing/chronyd.h"

namespace mamori::sntp {
namespace {

using namespace std::chrono_literals;

std::array<uint8_t, 48> Packet(int leap, int mode, int stratum, NtpTimestamp originate,
                               NtpTimestamp receive, NtpTimestamp transmit) {
  std::array<uint8_t, 48> p{};
  p[0] = static_cast<uint8_t>((leap << 6) | (4 << 3) | mode);
  p[1] = static_cast<uint8_t>(stratum);
  auto put = [&](size_t at, uint64_t v) {
    for (size_t i = 0; i < 8; ++i) p[at + 7 - i] = static_cast<uint8_t>(v >> (8 * i));
  };
  put(24, originate);
  put(32, receive);
  put(40, transmit);
  return p;
}

TEST(Sntp, NtpTimestampsRoundTrip) {
  const WallTime t = WallTime(std::chrono::seconds(1'795'000'000) + 123'456'789ns);
  const auto back = FromNtp(ToNtp(t));
  EXPECT_LT(std::abs((back - t).count()), 2) << "within a nanosecond or so";
  EXPECT_EQ(ToNtp(WallTime{}) >> 32, 2208988800ULL);
}

TEST(Sntp, ParseRejectsWhatIsNotAnAnswerToUs) {
  const NtpTimestamp sent = 0x1234567890ABCDEFULL;
  auto good = Packet(0, 4, 2, sent, sent + 10, sent + 20);
  EXPECT_TRUE(ParseReply(good, sent).ok());
  EXPECT_NE(ParseReply(std::span(good).first(47), sent).error().message().find("short reply"),
            std::string::npos);
  auto client = Packet(0, 3, 2, sent, 1, 2);
  EXPECT_NE(ParseReply(client, sent).error().message().find("not a server reply"),
            std::string::npos);
  auto stale = Packet(0, 4, 2, sent + 1, 1, 2);
  EXPECT_NE(ParseReply(stale, sent).error().message().find("originate"), std::string::npos);
  auto kod = Packet(3, 4, 0, sent, 0, 0);
  kod[12] = 'R', kod[13] = 'A', kod[14] = 'T', kod[15] = 'E';
  EXPECT_NE(ParseReply(kod, sent).error().message().find("kiss-o'-death RATE"), std::string::npos);
  auto empty = Packet(0, 4, 2, sent, 0, 0);
  EXPECT_FALSE(ParseReply(empty, sent).ok());
}

TEST(Sntp, OffsetAndDelayFollowRfc4330) {
  // We send at 100 s and receive at 100.2 s; the server (10 s ahead) received
  // at 110.05 and sent at 110.15: offset +10 s, delay 0.1 s.
  const WallTime t1 = WallTime(100s), t4 = WallTime(100s + 200ms);
  Reply r;
  r.receive = ToNtp(WallTime(110s + 50ms));
  r.transmit = ToNtp(WallTime(110s + 150ms));
  Measurement m = Compute(r, t1, t4);
  EXPECT_NEAR(std::chrono::duration<double>(m.offset).count(), 10.0, 1e-6);
  EXPECT_NEAR(std::chrono::duration<double>(m.delay).count(), 0.1, 1e-6);
}

TEST(Sntp, ServerAddressesAreValidated) {
  EXPECT_EQ(ValidateServer("pool.ntp.org"), "");
  EXPECT_EQ(ValidateServer("127.0.0.1:123"), "");
  EXPECT_EQ(ValidateServer("::1"), "");
  EXPECT_EQ(ValidateServer("[::1]:1234"), "");
  EXPECT_NE(ValidateServer("127.0.0.1:99999"), "");
  EXPECT_NE(ValidateServer("bad host"), "");
}

TEST(Sntp, RealChronydAgreesWithOurClock) {
  std::string error;
  auto chrony = testing::ChronydServer::Start("", &error);
  ASSERT_TRUE(chrony) << error;
  auto m = Query(chrony->address(), 2s);
  ASSERT_TRUE(m.ok()) << m.error().message();
  EXPECT_LT(std::chrono::abs(m->offset), 50ms);
  EXPECT_EQ(m->reply.stratum, 8);  // `local stratum 8`
  EXPECT_EQ(m->server, chrony->address());
}

TEST(Sntp, RealChronydThreeHoursAheadIsMeasuredAsSuch) {
  std::string error;
  auto chrony = testing::ChronydServer::Start("+3h", &error);
  ASSERT_TRUE(chrony) << error;
  auto m = Query(chrony->address(), 2s);
  ASSERT_TRUE(m.ok()) << m.error().message();
  EXPECT_NEAR(std::chrono::duration<double>(m->offset).count(), 3 * 3600.0, 1.0);
}

TEST(Sntp, NothingListeningIsAClearError) {
  std::string error;
  auto chrony = testing::ChronydServer::Start("", &error);
  ASSERT_TRUE(chrony) << error;
  const std::string addr = chrony->address();
  chrony.reset();  // the port is now closed: the kernel answers ICMP unreachable
  auto m = Query(addr, 1s);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message().find(addr), std::string::npos) << m.error().message();
}

}  // namespace
}  // namespace mamori::sntp
