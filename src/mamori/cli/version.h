// What `mamori --version` prints: the version, the git commit the build was
// configured from ("unknown" outside a git checkout) and the versions of the
// main libraries, one per line. Runtime versions where the library reports
// one (so a Debian library upgrade shows), the build's pkg-config version
// where it does not (libsystemd, yaml-cpp). Pure; thread-safe.
#pragma once

#include <string>

namespace mamori::cli {

std::string VersionText();

}  // namespace mamori::cli
