// Throughput of the Nagios plugin output parser on typical and worst-case
// outputs. Run: build/bench/perfdata_bench (configure with -DMAMORI_BENCH=ON).
#include <benchmark/benchmark.h>

#include <string>

#include "mamori/probes/perfdata.h"

namespace {

void BM_ParseTypical(benchmark::State& state) {
  const std::string text =
      "DISK OK - free space: / 3326 MB (56%); | /=2643MB;5948;5958;0;5968\n"
      "/ 15272 MB (77%);\n"
      "/boot 68 MB (69%); | /boot=68MB;88;93;0;98 'home dir'=69357MB;253404;253409;0;253414\n";
  for (auto _ : state) benchmark::DoNotOptimize(mamori::probes::ParsePluginOutput(text));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_ParseTypical);

// Many items: the parser stops keeping items at kMaxPerfData but must still
// walk the rest, so this bounds the cost of a hostile plugin.
void BM_ParseManyItems(benchmark::State& state) {
  std::string text = "OK |";
  for (int i = 0; i < state.range(0); ++i)
    text += " 'metric " + std::to_string(i) + "'=" + std::to_string(i * 1.5) + "ms;10:20;~:5;0;100";
  for (auto _ : state) benchmark::DoNotOptimize(mamori::probes::ParsePluginOutput(text));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_ParseManyItems)->Arg(16)->Arg(256)->Arg(4096);

}  // namespace
