// For the faces' tests: a real Store in a fresh temp dir, fed through the
// writer the daemon uses (Record, RecordEvent), with a FakeClock at
// 2026-01-01T00:00:00Z. Removed with everything in it after each test.
// Header-only and used by tests only; single-threaded like a gtest fixture.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "mamori/store/store.h"
#include "mamori/util/clock.h"

namespace mamori::faces {

class StoreFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/mamori-faces-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto s = Store::Open(dir_ + "/data", clock_, Store::OpenMode::kReadWrite);
    ASSERT_TRUE(s.ok()) << s.error().message();
    store_ = std::move(s).value();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Change(const std::string& check, WallTime t, std::optional<CheckStatus> from, CheckStatus to,
              std::string summary) {
    Event e;
    e.time = t;
    e.check = check;
    e.from = from;
    e.to = to;
    e.summary = std::move(summary);
    store_->RecordEvent(e);
  }
  FakeClock clock_;  // 2026-01-01T00:00:00Z
  std::string dir_;
  std::unique_ptr<Store> store_;
};

}  // namespace mamori::faces
