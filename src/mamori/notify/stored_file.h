// Opening one of the daemon's files in data_dir read-only, for the commands
// that read what the daemon wrote (`status`, `report`) whether or not it runs.
// Never creates or writes the file. Thread-safe (no state).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "mamori/store/sqlite.h"
#include "mamori/util/result.h"

namespace mamori::notify {

// <data_dir>/<file> opened read-only; nullopt when the file does not exist,
// an Error when it exists but cannot be opened.
Result<std::optional<sqlite::Db>> OpenStoredReadOnly(const std::string& data_dir,
                                                     std::string_view file);

}  // namespace mamori::notify
