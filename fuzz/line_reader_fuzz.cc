// Fuzzes the line splitter and the gzip-aware file reader: any bytes (binary,
// invalid UTF-8, huge lines, corrupt or truncated gzip) must come back as
// bounded lines or a read error, never a crash, a hang or unbounded memory.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "mamori/logs/line_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  mamori::logs::LineReaderOptions opt;
  opt.max_line_bytes = 1 + (size % 300);
  // Chunked feeding with the first byte choosing the chunk size.
  mamori::logs::LineSplitter splitter(opt);
  size_t step = size ? 1 + data[0] % 64 : 1;
  mamori::logs::Line line;
  for (size_t pos = 0; pos < size; pos += step) {
    splitter.Feed(input.substr(pos, step));
    while (splitter.NextLine(&line)) {
      if (line.text.size() > opt.max_line_bytes) __builtin_trap();
    }
  }
  if (splitter.Finish(&line) && line.text.size() > opt.max_line_bytes) __builtin_trap();

  // The file reader, through a real file (gzip is detected by content).
  char path[] = "/tmp/line_reader_fuzz_XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return 0;
  if (write(fd, data, size) != static_cast<ssize_t>(size)) {
    close(fd);
    unlink(path);
    return 0;
  }
  close(fd);
  opt.block_bytes = 4096;
  auto reader = mamori::logs::LineReader::Open(path, opt);
  if (reader.ok()) {
    size_t n = 0;
    while ((*reader)->Next(&line) && n < 1000000) {
      if (line.text.size() > opt.max_line_bytes) __builtin_trap();
      ++n;
    }
  }
  unlink(path);
  return 0;
}
