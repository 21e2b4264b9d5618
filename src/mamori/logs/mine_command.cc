#include "mamori/logs/mine_command.h"

#include <time.h>

#include <cstdio>
#include <fstream>
#include <iomanip>
#include <sstream>
#include <string_view>

#include "mamori/logs/template_miner.h"

namespace mamori::logs {
namespace {

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error("cannot open " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Error("cannot read " + path);
  return std::move(ss).str();
}

// Views of the lines of `text` (without '\n' and a trailing '\r'); a final
// newline does not start an extra empty line.
void SplitLines(std::string_view text, std::vector<std::string_view>* lines) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines->push_back(line);
    pos = nl + 1;
  }
}

void WriteCsvField(std::string_view s, std::ostream& out) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) {
    out << s;
    return;
  }
  out << '"';
  for (char c : s) {
    if (c == '"') out << '"';
    out << c;
  }
  out << '"';
}

// RFC 4180 records (quoted fields may hold commas, quotes and newlines).
std::vector<std::vector<std::string>> ParseCsv(std::string_view text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false;
  bool any = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        field += c;
      }
      continue;
    }
    if (c == '"') {
      quoted = true;
      any = true;
    } else if (c == ',') {
      row.push_back(std::move(field));
      field.clear();
      any = true;
    } else if (c == '\n') {
      if (!field.empty() && field.back() == '\r') field.pop_back();
      row.push_back(std::move(field));
      field.clear();
      rows.push_back(std::move(row));
      row.clear();
      any = false;
    } else {
      field += c;
      any = true;
    }
  }
  if (any) {
    row.push_back(std::move(field));
    rows.push_back(std::move(row));
  }
  return rows;
}

// CPU time of the calling thread: mining is single-threaded, so this is its
// cost on one core, and other processes on a shared machine do not inflate it
// (they would inflate wall-clock time).
double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double MineSeconds(const std::vector<std::string_view>& lines, int repeats) {
  double start = ThreadCpuSeconds();
  std::size_t sink = 0;
  for (int r = 0; r < repeats; ++r) sink += MineBatch(lines).templates.size();
  double end = ThreadCpuSeconds();
  if (sink == 0 && !lines.empty()) return 0;
  return (end - start) / repeats;
}

struct Dataset {
  std::string text;
  std::vector<std::string_view> lines;
  std::vector<std::string> truth;
};

Result<Dataset> LoadDataset(const std::string& dir, const std::string& name) {
  std::string base = dir + "/" + name + "/" + name + "_2k.log";
  Dataset d;
  auto text = ReadFile(base);
  if (!text) return text.error();
  d.text = std::move(*text);
  SplitLines(d.text, &d.lines);
  auto csv = ReadFile(base + "_structured.csv");
  if (!csv) return csv.error();
  auto rows = ParseCsv(*csv);
  if (rows.empty()) return Error(base + "_structured.csv: empty");
  std::size_t col = rows[0].size();
  for (std::size_t i = 0; i < rows[0].size(); ++i) {
    if (rows[0][i] == "EventId") col = i;
  }
  if (col == rows[0].size()) return Error(base + "_structured.csv: no EventId column");
  for (std::size_t r = 1; r < rows.size(); ++r) {
    if (col >= rows[r].size()) {
      return Error(base + "_structured.csv: row " + std::to_string(r) + " has no EventId");
    }
    d.truth.push_back(rows[r][col]);
  }
  if (d.truth.size() != d.lines.size()) {
    return Error(name + ": " + std::to_string(d.lines.size()) + " log lines but " +
                 std::to_string(d.truth.size()) + " labelled rows");
  }
  return d;
}

}  // namespace

int RunMineCommand(const std::vector<std::string>& files, const std::string& format,
                   std::ostream& out, std::ostream& err) {
  if (format != "csv") {
    err << "unknown format '" << format << "' (supported: csv)\n";
    return 64;
  }
  std::vector<std::string> texts;
  std::vector<std::string_view> lines;
  texts.reserve(files.size());
  for (const auto& f : files) {
    auto text = ReadFile(f);
    if (!text) {
      err << text.error().message() << "\n";
      return 66;
    }
    texts.push_back(std::move(*text));
  }
  for (const auto& t : texts) SplitLines(t, &lines);
  BatchResult r = MineBatch(lines);
  out << "LineId,EventId,EventTemplate\n";
  for (std::size_t i = 0; i < lines.size(); ++i) {
    TemplateMiner::Id id = r.line_template[i];
    out << (i + 1) << ',';
    if (id == TemplateMiner::kOverflowId) {
      out << "E0,<overflow>\n";
      continue;
    }
    out << 'E' << (id + 1) << ',';
    WriteCsvField(r.templates[id], out);
    out << '\n';
  }
  if (!r.truncated_lines.empty()) {
    err << r.truncated_lines.size() << " line(s) were truncated (first: line "
        << r.truncated_lines[0] + 1 << ")\n";
  }
  return 0;
}

const std::vector<std::string>& LoghubDatasets() {
  static const std::vector<std::string> kNames = {
      "Android",   "Apache",      "BGL",     "HDFS",     "HPC",       "Hadoop",
      "HealthApp", "Linux",       "Mac",     "OpenSSH",  "OpenStack", "Proxifier",
      "Spark",     "Thunderbird", "Windows", "Zookeeper"};
  return kNames;
}

Result<DatasetEvaluation> EvaluateDataset(const std::string& loghub_dir, const std::string& name) {
  auto d = LoadDataset(loghub_dir, name);
  if (!d) return d.error();
  BatchResult r = MineBatch(d->lines);
  auto ga = ComputeGroupAccuracy(r.line_template, d->truth);
  if (!ga) return ga.error();
  DatasetEvaluation e;
  e.name = name;
  e.ga = *ga;
  double s = MineSeconds(d->lines, 20);
  e.lines_per_second = s > 0 ? d->lines.size() / s : 0;
  return e;
}

int RunMineEvaluate(const std::string& loghub_dir, std::ostream& out) {
  int rc = 0;
  out << "| dataset | lines | predicted templates | true templates | GA | lines/s |\n";
  out << "| --- | ---: | ---: | ---: | ---: | ---: |\n";
  double sum = 0;
  int n = 0;
  std::vector<Dataset> all;
  for (const auto& name : LoghubDatasets()) {
    auto e = EvaluateDataset(loghub_dir, name);
    if (!e) {
      out << "| " << name << " | error: " << e.error().message() << " | | | | |\n";
      rc = 66;
      continue;
    }
    char ga[16];
    std::snprintf(ga, sizeof ga, "%.4f", e->ga.accuracy);
    out << "| " << name << " | " << e->ga.lines << " | " << e->ga.predicted_groups << " | "
        << e->ga.true_groups << " | " << ga << " | " << static_cast<long long>(e->lines_per_second)
        << " |\n";
    sum += e->ga.accuracy;
    ++n;
    auto d = LoadDataset(loghub_dir, name);
    if (d) all.push_back(std::move(*d));
  }
  char avg[16];
  std::snprintf(avg, sizeof avg, "%.4f", n ? sum / n : 0.0);
  out << "\nAverage GA over " << n << " datasets: " << avg << "\n";
  std::vector<std::string_view> lines;
  for (const auto& d : all) lines.insert(lines.end(), d.lines.begin(), d.lines.end());
  if (!lines.empty()) {
    MineSeconds(lines, 2);  // warm up
    double s = MineSeconds(lines, 20);
    out << "Throughput, all samples concatenated (" << lines.size()
        << " lines, batch mode, thread CPU time on one core): "
        << static_cast<long long>(s > 0 ? lines.size() / s : 0) << " lines/s\n";
  }
  return rc;
}

}  // namespace mamori::logs
