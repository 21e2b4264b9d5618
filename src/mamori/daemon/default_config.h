// The embedded default: the configuration mamori uses when given none. It is
// generated for this machine (every real mounted filesystem, memory and swap,
// load, the TCP listeners, time sync, well-known sockets, and the host checks
// of "after a reboot": systemd units and the time daemon where systemd runs,
// the network where the host reaches out, stale files, mounts, the kernel,
// deleted libraries, the learned baseline) as YAML text and then loaded through the normal loader, so `mamori doctor
// --print-config` shows a file the user can save, edit and pass back with -c.
#pragma once

#include <string>
#include <vector>

#include "mamori/host/mounts.h"

namespace mamori {

// Mount, ParseMountInfo and RealFilesystems: mamori/host/mounts.h.

// Unix sockets of well-known services found under `fs_root` (PHP-FPM pools,
// MariaDB/MySQL, PostgreSQL), each becoming a `socket` check so a stale
// socket left by a crash is caught (incident 1). Sorted; at most 16.
std::vector<std::string> WellKnownSockets(const std::string& fs_root = "");

// `data_dir` is written into the YAML as given.
std::string DefaultConfigYaml(const std::string& data_dir, const std::string& proc_root = "/proc",
                              const std::string& fs_root = "");

// Where state goes when no configuration names it: /var/lib/mamori for root,
// else $XDG_STATE_HOME/mamori or ~/.local/state/mamori.
std::string DefaultDataDir();

}  // namespace mamori
