#include "mamori/notify/stored_file.h"

#include <filesystem>

namespace mamori::notify {

Result<std::optional<sqlite::Db>> OpenStoredReadOnly(const std::string& data_dir,
                                                     std::string_view file) {
  const std::string path = (std::filesystem::path(data_dir) / file).string();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::optional<sqlite::Db>();
  auto db = sqlite::Db::Open(path, sqlite::Db::Mode::kReadOnly);
  if (!db.ok()) return db.error();
  return std::optional<sqlite::Db>(std::move(*db));
}

}  // namespace mamori::notify
