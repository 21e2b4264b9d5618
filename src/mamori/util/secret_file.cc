#include "mamori/util/secret_file.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace mamori {

Result<std::string> ReadSecretFile(const std::string& path, std::string_view key) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(fmt::format("cannot read {} {}: {}", key, path, std::strerror(errno)));
  std::string text(4096, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (auto nl = text.find('\n'); nl != std::string::npos) text.resize(nl);
  while (!text.empty() && (text.back() == '\r' || text.back() == ' ' || text.back() == '\t'))
    text.pop_back();
  return text;
}

}  // namespace mamori
