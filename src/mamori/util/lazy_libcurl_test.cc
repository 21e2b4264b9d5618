// The libcurl forwarders (util/lazy_libcurl.cc) against a real nginx on
// 127.0.0.1: each kind of option (long, pointer, function pointer,
// curl_off_t, list) must reach curl with its value intact, seen through the
// effect on a real transfer. The limits are chosen above 2^32 where a
// forwarder that read an int would cut them to a small number and fail the
// transfer.
#include <curl/curl.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "mamori/util/lazy_libraries.h"
#include "testing/nginx.h"

namespace mamori::util {
namespace {

size_t Collect(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

int OnTimer(CURLM*, long, void* user) {
  ++*static_cast<int*>(user);
  return 0;
}

class LazyLibraryCurl : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string error;
    nginx_ = testing::NginxServer::Start({}, &error).release();
    ASSERT_NE(nginx_, nullptr) << error;
  }
  static void TearDownTestSuite() {
    delete nginx_;
    nginx_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(nginx_, nullptr);
    ASSERT_EQ(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK)
        << mamori::util::LazyLibCurl().Error();
    easy_.reset(curl_easy_init());
    ASSERT_NE(easy_, nullptr);
    curl_easy_setopt(easy_.get(), CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy_.get(), CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(easy_.get(), CURLOPT_WRITEFUNCTION, Collect);
    curl_easy_setopt(easy_.get(), CURLOPT_WRITEDATA, &body_);
  }
  CURLcode Get(const std::string& path) {
    url_ = nginx_->Url(path);
    curl_easy_setopt(easy_.get(), CURLOPT_URL, url_.c_str());
    body_.clear();
    return curl_easy_perform(easy_.get());
  }

  static testing::NginxServer* nginx_;
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> easy_{nullptr, curl_easy_cleanup};
  std::string url_, body_;
};
testing::NginxServer* LazyLibraryCurl::nginx_ = nullptr;

// A string (pointer), a write callback (function pointer) with its data
// (pointer), and the three kinds of CURLINFO answer (long, curl_off_t, char*).
TEST_F(LazyLibraryCurl, PointerAndFunctionOptionsAndInfoReachCurl) {
  ASSERT_EQ(Get("/"), CURLE_OK);
  EXPECT_EQ(body_, "hello from nginx\n");
  long status = 0;
  EXPECT_EQ(curl_easy_getinfo(easy_.get(), CURLINFO_RESPONSE_CODE, &status), CURLE_OK);
  EXPECT_EQ(status, 200);
  curl_off_t size = 0;
  EXPECT_EQ(curl_easy_getinfo(easy_.get(), CURLINFO_SIZE_DOWNLOAD_T, &size), CURLE_OK);
  EXPECT_EQ(size, static_cast<curl_off_t>(body_.size()));
  char* effective = nullptr;
  EXPECT_EQ(curl_easy_getinfo(easy_.get(), CURLINFO_EFFECTIVE_URL, &effective), CURLE_OK);
  ASSERT_NE(effective, nullptr);
  EXPECT_EQ(std::string(effective), url_);
  EXPECT_TRUE(mamori::util::LazyLibCurl().Loaded());
}

TEST_F(LazyLibraryCurl, LongOptionKeepsAllItsBits) {
  curl_easy_setopt(easy_.get(), CURLOPT_MAXFILESIZE, 10L);
  EXPECT_EQ(Get("/"), CURLE_FILESIZE_EXCEEDED);
  curl_easy_setopt(easy_.get(), CURLOPT_MAXFILESIZE, (1L << 32) + 10);
  EXPECT_EQ(Get("/"), CURLE_OK);
}

TEST_F(LazyLibraryCurl, OffTOptionKeepsAllItsBits) {
  curl_easy_setopt(easy_.get(), CURLOPT_MAXFILESIZE_LARGE, curl_off_t{10});
  EXPECT_EQ(Get("/"), CURLE_FILESIZE_EXCEEDED);
  curl_easy_setopt(easy_.get(), CURLOPT_MAXFILESIZE_LARGE, (curl_off_t{1} << 32) + 10);
  EXPECT_EQ(Get("/"), CURLE_OK);
}

// A timeout (long) shorter than /slow.txt's half second ends the transfer.
TEST_F(LazyLibraryCurl, TimeoutOptionEndsASlowTransfer) {
  curl_easy_setopt(easy_.get(), CURLOPT_TIMEOUT_MS, 100L);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(Get("/slow.txt"), CURLE_OPERATION_TIMEDOUT);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(450));
}

TEST_F(LazyLibraryCurl, HeaderListReachesTheServer) {
  curl_slist* headers = curl_slist_append(nullptr, "X-Mamori: lazy");
  ASSERT_NE(headers, nullptr);
  curl_easy_setopt(easy_.get(), CURLOPT_HTTPHEADER, headers);
  EXPECT_EQ(Get("/echo-method"), CURLE_OK);
  curl_slist_free_all(headers);
  EXPECT_NE(body_.find("x=lazy"), std::string::npos) << body_;
}

// curl_multi_setopt: a timer callback (function pointer) and its data
// (pointer) are called when a transfer is added; the transfer completes
// through the multi forwarders.
TEST_F(LazyLibraryCurl, MultiOptionsAndTransfer) {
  std::unique_ptr<CURLM, decltype(&curl_multi_cleanup)> multi(curl_multi_init(),
                                                              curl_multi_cleanup);
  ASSERT_NE(multi, nullptr);
  int timer_calls = 0;
  EXPECT_EQ(curl_multi_setopt(multi.get(), CURLMOPT_TIMERFUNCTION, OnTimer), CURLM_OK);
  EXPECT_EQ(curl_multi_setopt(multi.get(), CURLMOPT_TIMERDATA, &timer_calls), CURLM_OK);
  EXPECT_EQ(curl_multi_setopt(multi.get(), CURLMOPT_MAXCONNECTS, 4L), CURLM_OK);
  url_ = nginx_->Url("/");
  curl_easy_setopt(easy_.get(), CURLOPT_URL, url_.c_str());
  ASSERT_EQ(curl_multi_add_handle(multi.get(), easy_.get()), CURLM_OK);
  EXPECT_GT(timer_calls, 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  int running = 1;
  while (running > 0 && std::chrono::steady_clock::now() < deadline) {
    ASSERT_EQ(curl_multi_perform(multi.get(), &running), CURLM_OK);
    if (running > 0) {
      ASSERT_EQ(curl_multi_poll(multi.get(), nullptr, 0, 100, nullptr), CURLM_OK);
    }
  }
  int left = 0;
  CURLMsg* msg = curl_multi_info_read(multi.get(), &left);
  ASSERT_NE(msg, nullptr);
  EXPECT_EQ(msg->data.result, CURLE_OK);
  EXPECT_EQ(body_, "hello from nginx\n");
  EXPECT_EQ(curl_multi_remove_handle(multi.get(), easy_.get()), CURLM_OK);
  EXPECT_EQ(curl_multi_wakeup(multi.get()), CURLM_OK);
  EXPECT_STREQ(curl_multi_strerror(CURLM_OK), "No error");
  EXPECT_STREQ(curl_easy_strerror(CURLE_OK), "No error");
}

TEST_F(LazyLibraryCurl, VersionComesFromTheLoadedLibrary) {
  const curl_version_info_data* v = curl_version_info(CURLVERSION_NOW);
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->version_num >> 16, LIBCURL_VERSION_NUM >> 16);  // same major as the headers
}

}  // namespace
}  // namespace mamori::util
