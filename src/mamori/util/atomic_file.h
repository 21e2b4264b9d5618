// WriteFileAtomically: replaces a small file whole. The text goes to a
// temporary of this writer's own (PATH.tmp.XXXXXX), is fsynced, renamed over PATH, and the directory is fsynced so
// the rename survives a power cut. A reader sees the old file or the new one,
// never half of either; a crash leaves at most a PATH.tmp.* behind (removed on
// failure when possible).
//
// Plain function; safe from any thread and process, also for one path: each
// writer renames its own complete temporary, the last rename wins. Failure: an Error naming the path and errno's
// words; PATH is then unchanged.
#pragma once

#include <string>
#include <string_view>

#include "mamori/util/result.h"

namespace mamori {

Result<bool> WriteFileAtomically(const std::string& path, std::string_view text, int mode = 0644);

}  // namespace mamori
