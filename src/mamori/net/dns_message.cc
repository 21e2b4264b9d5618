#include "mamori/net/dns_message.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

namespace mamori::dns {
namespace {

constexpr size_t kHeaderSize = 12;
constexpr size_t kMaxNameBytes = 255;  // wire length, RFC 1035 2.3.4
constexpr int kMaxCnameLinks = 16;

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string LowerName(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  std::string out;
  out.reserve(name.size());
  for (char c : name) out.push_back(Lower(c));
  return out;
}

uint16_t Get16(std::span<const uint8_t> d, size_t at) {
  return static_cast<uint16_t>((d[at] << 8) | d[at + 1]);
}

void Put16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v & 0xff));
}

// Reads a possibly compressed name starting at `pos`; on success `pos` is
// just past the name's bytes at its original place, and the name is returned
// in lower case without the trailing dot ("" for the root).
Result<std::string> ReadName(std::span<const uint8_t> d, size_t& pos) {
  std::string name;
  size_t at = pos;
  size_t lowest = pos;  // every pointer must go below everything read so far
  size_t wire_len = 0;
  std::optional<size_t> resume;  // where the caller continues, once we jumped
  for (;;) {
    if (at >= d.size()) return Error("name runs past the end of the message");
    const uint8_t len = d[at];
    if ((len & 0xC0) == 0xC0) {
      if (at + 1 >= d.size()) return Error("compression pointer runs past the end");
      const size_t target = static_cast<size_t>(((len & 0x3F) << 8) | d[at + 1]);
      if (target < kHeaderSize) return Error("compression pointer into the header");
      if (target >= lowest) return Error("compression pointer does not point backwards");
      if (!resume) resume = at + 2;
      at = lowest = target;
      continue;
    }
    if ((len & 0xC0) != 0) return Error(fmt::format("unsupported label type 0x{:02x}", len));
    wire_len += 1 + len;
    if (wire_len > kMaxNameBytes) return Error("name longer than 255 bytes");
    if (len == 0) {
      pos = resume ? *resume : at + 1;
      return name;
    }
    if (at + 1 + len > d.size()) return Error("label runs past the end of the message");
    if (!name.empty()) name.push_back('.');
    for (size_t i = 0; i < len; ++i) name.push_back(Lower(static_cast<char>(d[at + 1 + i])));
    at += 1 + len;
  }
}

}  // namespace

Result<std::vector<uint8_t>> EncodeQuery(uint16_t id, std::string_view name, uint16_t qtype) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.empty() || name.size() > 253) return Error("name must be 1-253 characters long");
  std::vector<uint8_t> out;
  out.reserve(kHeaderSize + name.size() + 6);
  Put16(out, id);
  Put16(out, 0x0100);  // standard query, recursion desired
  Put16(out, 1);       // QDCOUNT
  Put16(out, 0);
  Put16(out, 0);
  Put16(out, 0);
  size_t start = 0;
  while (start <= name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string_view::npos) dot = name.size();
    const size_t len = dot - start;
    if (len == 0 || len > 63) return Error("name has an empty or over-long (>63) label");
    out.push_back(static_cast<uint8_t>(len));
    out.insert(out.end(), name.begin() + static_cast<std::ptrdiff_t>(start),
               name.begin() + static_cast<std::ptrdiff_t>(dot));
    start = dot + 1;
  }
  out.push_back(0);
  Put16(out, qtype);
  Put16(out, 1);  // class IN
  return out;
}

std::optional<uint16_t> PeekId(std::span<const uint8_t> data) {
  if (data.size() < 2) return std::nullopt;
  return Get16(data, 0);
}

Result<Reply> ParseReply(std::span<const uint8_t> d, std::string_view name, uint16_t qtype) {
  if (d.size() < kHeaderSize)
    return Error(fmt::format("{} bytes is shorter than a DNS header", d.size()));
  Reply r;
  r.id = Get16(d, 0);
  const uint16_t flags = Get16(d, 2);
  if (!(flags & 0x8000)) return Error("not a reply (QR bit clear)");
  if (((flags >> 11) & 0xF) != 0) return Error("reply to an opcode other than QUERY");
  r.authoritative = flags & 0x0400;
  r.truncated = flags & 0x0200;
  r.rcode = static_cast<uint8_t>(flags & 0xF);
  const uint16_t qdcount = Get16(d, 4), ancount = Get16(d, 6);
  const std::string want = LowerName(name);

  size_t pos = kHeaderSize;
  if (qdcount > 1) return Error(fmt::format("reply has {} questions, expected 1", qdcount));
  if (qdcount == 0) {
    // Servers may drop the question from an error reply (FORMERR, REFUSED).
    if (r.rcode != kRcodeNoError) return r;
    return Error("reply has no question section");
  }
  auto qname = ReadName(d, pos);
  if (!qname.ok()) return qname.error().Wrap("question");
  if (pos + 4 > d.size()) return Error("question runs past the end of the message");
  const uint16_t got_type = Get16(d, pos), got_class = Get16(d, pos + 2);
  pos += 4;
  if (*qname != want || got_type != qtype || got_class != 1)
    return Error(
        fmt::format("reply is for '{}' {}, not the question asked", *qname, TypeName(got_type)));
  if (r.rcode != kRcodeNoError) return r;

  struct Record {
    std::string owner;
    uint16_t type;
    boost::asio::ip::address address;
    std::string target;  // CNAME
  };
  std::vector<Record> records;
  for (uint16_t i = 0; i < ancount; ++i) {
    auto owner = ReadName(d, pos);
    if (!owner.ok()) return owner.error().Wrap(fmt::format("answer {}", i + 1));
    if (pos + 10 > d.size())
      return Error(fmt::format("answer {} of {} runs past the end of the message", i + 1, ancount));
    const uint16_t type = Get16(d, pos), cls = Get16(d, pos + 2), rdlen = Get16(d, pos + 8);
    pos += 10;
    if (pos + rdlen > d.size())
      return Error(fmt::format("answer {} data runs past the end of the message", i + 1));
    const std::span<const uint8_t> rdata = d.subspan(pos, rdlen);
    if (cls == 1 && type == kTypeA) {
      if (rdlen != 4) return Error(fmt::format("A record with {} bytes of data", rdlen));
      boost::asio::ip::address_v4::bytes_type b;
      std::copy(rdata.begin(), rdata.end(), b.begin());
      records.push_back({std::move(*owner), type, boost::asio::ip::address_v4(b), {}});
    } else if (cls == 1 && type == kTypeAaaa) {
      if (rdlen != 16) return Error(fmt::format("AAAA record with {} bytes of data", rdlen));
      boost::asio::ip::address_v6::bytes_type b;
      std::copy(rdata.begin(), rdata.end(), b.begin());
      records.push_back({std::move(*owner), type, boost::asio::ip::address_v6(b), {}});
    } else if (cls == 1 && type == kTypeCname) {
      size_t tpos = pos;
      auto target = ReadName(d.first(pos + rdlen), tpos);
      if (!target.ok()) return target.error().Wrap(fmt::format("answer {} CNAME", i + 1));
      if (tpos != pos + rdlen)
        return Error(fmt::format("answer {} CNAME has trailing data", i + 1));
      records.push_back({std::move(*owner), type, {}, std::move(*target)});
    }
    pos += rdlen;
  }

  // Follow the CNAME chain from the name asked; resolvers put it in the answer.
  std::string current = want;
  for (int link = 0; link <= kMaxCnameLinks; ++link) {
    const Record* cname = nullptr;
    for (const auto& rec : records)
      if (rec.type == kTypeCname && rec.owner == current) cname = &rec;
    if (!cname) break;
    if (link == kMaxCnameLinks) return Error("CNAME chain longer than 16 links");
    current = cname->target;
    if (current == want) return Error(fmt::format("CNAME loop at '{}'", current));
    for (const auto& seen : r.cname_chain)
      if (seen == current) return Error(fmt::format("CNAME loop at '{}'", current));
    r.cname_chain.push_back(current);
  }
  for (const auto& rec : records) {
    if (rec.type != qtype) continue;
    const bool in_chain = rec.owner == want || std::find(r.cname_chain.begin(), r.cname_chain.end(),
                                                         rec.owner) != r.cname_chain.end();
    if (in_chain &&
        std::find(r.addresses.begin(), r.addresses.end(), rec.address) == r.addresses.end())
      r.addresses.push_back(rec.address);
  }
  return r;
}

std::string RcodeText(uint8_t rcode) {
  switch (rcode) {
    case 0:
      return "NOERROR";
    case 1:
      return "FORMERR (the server could not parse the query)";
    case 2:
      return "SERVFAIL (server failure)";
    case 3:
      return "NXDOMAIN (no such name)";
    case 4:
      return "NOTIMP (query type not implemented)";
    case 5:
      return "REFUSED (the server refused to answer)";
    default:
      return fmt::format("RCODE {}", rcode);
  }
}

std::string TypeName(uint16_t qtype) {
  switch (qtype) {
    case kTypeA:
      return "A";
    case kTypeAaaa:
      return "AAAA";
    case kTypeCname:
      return "CNAME";
    default:
      return fmt::format("TYPE {}", qtype);
  }
}

}  // namespace mamori::dns
