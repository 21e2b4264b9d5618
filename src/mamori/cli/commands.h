// The verbs of the `mamori` command line. Each returns the process exit code
// (Nagios convention for checks: 0 ok, 1 warning, 2 critical, 3 unknown; 64+
// for usage errors as in sysexits.h).
#pragma once

namespace mamori::cli {

int Main(int argc, char** argv);

}  // namespace mamori::cli
