// Helpers shared by the remedy step files (<key>_remedy.cc): how a step's
// output is shortened for an event, and how a path-taking step reads its
// path. Pure functions, thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "mamori/config/node.h"

namespace mamori::remedy {

// `s` on one line (newlines and tabs as spaces, no trailing blanks), cut to
// a length an event can carry.
std::string OneLine(std::string s);

std::string Join(const std::vector<std::string>& v, const char* sep);

// The absolute path under `key` of a step; nullopt, with an error, when it
// is missing, not a string or relative.
std::optional<std::string> ReadAbsolutePath(config::ConfigNode& step, const char* key);

}  // namespace mamori::remedy
