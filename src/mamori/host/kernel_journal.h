// The kernel's messages of this boot as the systemd journal kept them
// (_TRANSPORT=kernel), for the `kernel` check's OOM kills: /dev/kmsg is a
// ring buffer, and on a host that has been up for months the lines of an
// early kill have long been overwritten, while journald copied each of them
// when it was printed. Only the lines the OOM count reads are returned
// ("Killed process", "oom-kill:"), so what is kept stays small.
//
// One sd_journal per call, opened and closed here; reentrant. Newest first,
// at most `max_entries` kernel entries looked at and never past `deadline`
// (*truncated says so). A machine without a journal reads nothing; an
// error is libsystemd's own words.
#pragma once

#include <string>
#include <vector>

#include "mamori/util/clock.h"
#include "mamori/util/result.h"

namespace mamori::host::kernel {

struct JournalQuery {
  std::string dir;      // a journal directory; "" is the local system journal
  std::string boot_id;  // this boot's id (either form); "" reads every boot
  size_t max_entries = 200000;
};

Result<std::vector<std::string>> ReadKernelOomLines(const JournalQuery& q, MonoTime deadline,
                                                    bool* truncated);

// The kernel's boot id (/proc/sys/kernel/random/boot_id), "" when unreadable.
std::string CurrentBootId(const std::string& proc_root = "/proc");

}  // namespace mamori::host::kernel
