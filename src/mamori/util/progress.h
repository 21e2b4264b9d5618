// A progress line for long verbs (`logs scan`, `logs mine`, `backup verify`):
// "scan error.log.gz  45%  63.2 MiB of 141 MiB  210 MiB/s  1s left", redrawn
// in place on stderr at most five times a second, and only when stderr is a
// terminal: in a pipe, a log or CI nothing is written at all.
//
// Ownership: the caller owns the Progress and the clock it was given (which
// must outlive it). Single-threaded. Writing to the terminal never fails the
// verb (a failed write is ignored).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "mamori/util/clock.h"

namespace mamori {

class Progress {
 public:
  // Draws on `fd` when it is a terminal, or always when `force` (tests).
  Progress(std::string label, uint64_t total_bytes, const Clock& clock, int fd, bool force = false);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // A new phase (the next file) with its own label and size.
  void Restart(std::string label, uint64_t total_bytes);
  // `done` bytes of the current phase; redraws when 200 ms have passed.
  void Update(uint64_t done);
  // Clears the line (also done by the destructor).
  void Clear();

  bool enabled() const { return enabled_; }

  // The line for `done` of `total` bytes after `elapsed`, at most `width`
  // columns (the label is shortened from the left). total 0: size unknown.
  static std::string Format(std::string_view label, uint64_t done, uint64_t total, Duration elapsed,
                            size_t width);

 private:
  void Draw(const std::string& line);

  std::string label_;
  uint64_t total_ = 0;
  const Clock& clock_;
  int fd_;
  bool enabled_;
  bool drawn_ = false;
  MonoTime started_;
  MonoTime last_draw_;
};

}  // namespace mamori
