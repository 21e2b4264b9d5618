// SNTP client (RFC 4330): asks an NTP server for its time once and computes
// this machine's clock offset against it. Written here rather than taken from
// a library because it is one 48-byte UDP exchange and Debian packages no
// small SNTP client library; parsing is split out so it can be fuzzed.
//
// Incident 2 is why: after a hosting maintenance the VM's clock stood 3 hours
// behind while the kernel still said "synchronized" to nobody in particular.
// Asking a server directly measures the offset whatever the local daemons
// claim.
//
// Query() blocks for at most `timeout` (poll on one UDP socket) and for the
// resolver's own time when `host` is a name; callers run it on the worker
// pool. Stateless; thread-safe. Failures (timeouts, refused, a kiss-o'-death
// answer, a reply that does not match the request) are Errors with the
// server's address and the reason.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "mamori/util/clock.h"
#include "mamori/util/result.h"

namespace mamori::sntp {

// NTP's 64-bit timestamp: seconds since 1900 in the high half, a binary
// fraction in the low half.
using NtpTimestamp = uint64_t;
NtpTimestamp ToNtp(WallTime t);
WallTime FromNtp(NtpTimestamp t);

struct Reply {
  int leap = 0;           // 0 none, 1/2 leap second pending, 3 server unsynchronized
  int stratum = 0;        // 1 primary ... 15; 0 is kiss-o'-death (rejected by Parse)
  std::string reference;  // reference id: "GPS", "LOCL", or an IPv4 address
  NtpTimestamp originate = 0, receive = 0, transmit = 0;
};

// Checks and decodes a server's answer to a request whose transmit timestamp
// was `sent`. Rejects short packets, non-server modes, kiss-o'-death codes,
// an originate timestamp that does not echo `sent` (a stale or forged reply)
// and a zero transmit time.
Result<Reply> ParseReply(std::span<const uint8_t> packet, NtpTimestamp sent);

struct Measurement {
  Duration offset{};  // server time minus local time: positive when we are behind
  Duration delay{};   // round trip, less the server's processing time
  Reply reply;
  std::string server;  // "127.0.0.1:123"
};

// offset = ((T2 - T1) + (T3 - T4)) / 2, delay = (T4 - T1) - (T3 - T2), with
// T1 sent, T2 server receive, T3 server transmit, T4 arrival.
Measurement Compute(const Reply& r, WallTime t1, WallTime t4);

// `server` is "host", "host:port", an IP literal or "[v6]:port" (default
// port 123).
Result<Measurement> Query(const std::string& server, Duration timeout);

// "" when `server` is a valid server address for Query(), else what is wrong.
std::string ValidateServer(const std::string& server);

}  // namespace mamori::sntp
