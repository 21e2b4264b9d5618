// DNS wire format, just enough for the `dns` check type: encode one recursive
// query, and parse the reply to it (header, question, answer section with A,
// AAAA and CNAME records).
//
// The parser treats the reply as hostile: every read is bounds-checked,
// section counts are trusted only as far as the bytes go, compression pointers
// must point strictly before every earlier part of the name being read (so a
// pointer loop is impossible), names are capped at 255 bytes and CNAME chains
// at 16 links. Errors are values with a short reason. Pure functions,
// thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ip/address.hpp>

#include "mamori/util/result.h"

namespace mamori::dns {

inline constexpr uint16_t kTypeA = 1;
inline constexpr uint16_t kTypeCname = 5;
inline constexpr uint16_t kTypeAaaa = 28;

inline constexpr uint8_t kRcodeNoError = 0;
inline constexpr uint8_t kRcodeServFail = 2;
inline constexpr uint8_t kRcodeNxDomain = 3;

// A standard query (RD set, one question, class IN) for `name` ("a.example" or
// "a.example."). Fails if the name cannot be encoded (empty or >63-byte label,
// longer than 253 characters).
Result<std::vector<uint8_t>> EncodeQuery(uint16_t id, std::string_view name, uint16_t qtype);

struct Reply {
  uint16_t id = 0;
  uint8_t rcode = 0;
  bool truncated = false;      // TC: the answer did not fit the datagram
  bool authoritative = false;  // AA
  // Addresses of type `qtype` owned by the name asked or by a name its CNAME
  // chain leads to, in reply order.
  std::vector<boost::asio::ip::address> addresses;
  std::vector<std::string> cname_chain;  // targets followed, lower case
};

// The id of a message, if it is long enough to have one.
std::optional<uint16_t> PeekId(std::span<const uint8_t> data);

// Parses `data` as the reply to a query for (`name`, `qtype`). Fails if it is
// not a well-formed reply to that question. A non-zero rcode is not a parse
// failure: the answer section is then left unread.
Result<Reply> ParseReply(std::span<const uint8_t> data, std::string_view name, uint16_t qtype);

// "NXDOMAIN (no such name)", "SERVFAIL (server failure)", "RCODE 9".
std::string RcodeText(uint8_t rcode);
// "A", "AAAA", "CNAME" or "TYPE n".
std::string TypeName(uint16_t qtype);

}  // namespace mamori::dns
