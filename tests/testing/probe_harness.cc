#include "testing/probe_harness.h"

#include <gtest/gtest.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <future>
#include <thread>

#include "mamori/daemon/config_file.h"

namespace mamori::testing {

struct ProbeHarness::Impl {
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard{io.get_executor()};
  boost::asio::thread_pool pool{4};
  std::thread io_thread;
  HttpClient* http;
};

ProbeHarness::ProbeHarness(HttpClient* http) : impl_(std::make_unique<Impl>()) {
  impl_->http = http;
  impl_->io_thread = std::thread([this] { impl_->io.run(); });
}

ProbeHarness::~ProbeHarness() {
  impl_->guard.reset();
  impl_->io.stop();
  impl_->io_thread.join();
  impl_->pool.join();
}

std::shared_ptr<Probe> ProbeHarness::Build(const std::string& yaml, std::string* errors) {
  std::string text = "checks:\n  - " + yaml + "\n";
  ConfigLoad load = LoadConfigText(text, "test.yaml");
  if (!load.config) {
    if (errors) *errors = load.diagnostics.ToString();
    return nullptr;
  }
  if (load.config->checks.empty()) {
    if (errors) *errors = "check is disabled";
    return nullptr;
  }
  return load.config->checks[0].probe;
}

Observation ProbeHarness::Run(Probe& probe, Duration timeout) {
  ProbeEnv env{clock_, impl_->io, impl_->pool, impl_->http};
  auto promise = std::make_shared<std::promise<Observation>>();
  auto future = promise->get_future();
  probe.Start(env, clock_.Monotonic() + timeout,
              [promise](Observation o) { promise->set_value(std::move(o)); });
  if (future.wait_for(timeout + std::chrono::seconds(5)) != std::future_status::ready) {
    ADD_FAILURE() << "probe did not call done within its timeout + 5s";
    return Observation::Make(CheckStatus::kUnknown, "harness: probe never finished");
  }
  return future.get();
}

Observation ProbeHarness::RunYaml(const std::string& yaml, Duration timeout) {
  std::string errors;
  auto probe = Build(yaml, &errors);
  if (!probe) {
    ADD_FAILURE() << "invalid check config: " << yaml << "\n" << errors;
    return Observation::Make(CheckStatus::kUnknown, "invalid config");
  }
  return Run(*probe, timeout);
}

}  // namespace mamori::testing
