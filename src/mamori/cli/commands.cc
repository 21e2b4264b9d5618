#include "mamori/cli/commands.h"

#include <CLI/CLI.hpp>
#include <cstdio>

namespace mamori::cli {

int Main(int argc, char** argv) {
  CLI::App app{"mamori: a small, fast watchdog for your own servers"};
  app.set_version_flag("--version", std::string("mamori ") + MAMORI_VERSION);
  app.require_subcommand(1);
  CLI11_PARSE(app, argc, argv);
  return 0;
}

}  // namespace mamori::cli
