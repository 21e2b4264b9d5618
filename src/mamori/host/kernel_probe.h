// Check type "kernel": what the kernel and the package manager say about this
// boot. WARNING for each of: processes the OOM killer killed since boot
// (from the kernel log, /dev/kmsg, and the journal's copy of this boot's
// kernel lines, which outlives the ring buffer on a long-lived host; a
// kill seen in both is counted once), /run/reboot-required (with the
// packages of /run/reboot-required.pkgs), and a running kernel older than
// the newest installed one of its flavour (Debian version order). The facts
// are read by host/kernel_facts.h.
//
// Keys: `oom`, `reboot_required`, `newer_kernel` (each true by default),
// `ignore_oom:` (globs of process names whose kills are expected),
// `oom_journal:` (read the journal too; true by default).
//
// Ownership/threading: a BlockingProbe holding its options; Run() is never
// concurrent with itself. Failure: a kernel log that cannot be read (not root
// with kernel.dmesg_restrict=1) is said in the summary and does not change
// the status; the other parts are still judged.
#pragma once

#include <string>
#include <vector>

#include "mamori/check/probe.h"

namespace mamori::probes::kernel {

struct Options {
  std::string fs_root;             // "" is the real root
  std::string kmsg = "/dev/kmsg";  // the kernel log
  std::string running_release;     // "" is uname(2)'s release
  size_t max_log_lines = 200000;   // the ring buffer holds far fewer
  bool oom_journal = true;         // also the journal's kernel lines of this boot
  std::string journal_dir;         // "" is the local system journal
  std::string boot_id;             // "" is this boot's (/proc)
  bool oom = true, reboot_required = true, newer_kernel = true;
  std::vector<std::string> ignore_oom;
};

class KernelProbe final : public BlockingProbe {
 public:
  explicit KernelProbe(Options o) : o_(std::move(o)) {}
  Observation Run(const Clock& clock, MonoTime deadline) override;

 private:
  Options o_;
};

}  // namespace mamori::probes::kernel
