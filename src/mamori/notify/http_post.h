// HttpPost: one blocking HTTP request with libcurl's easy interface, for the
// webhook and Alertmanager channels, which run on the outbox's delivery
// threads (one request at a time per channel, so the multi interface the
// probes use would buy nothing here).
// Plain http:// URLs go through the native client (net/native_http_client.h)
// instead, so a webhook to a local service never loads libcurl.
//
// Bounded: the whole request (connect included) ends at `timeout`; at most
// 64 KiB of the answer is kept. Thread-safe (each call has its own handle).
// Failure: transport problems are an Error in curl's words; any HTTP status is
// a successful result and the caller decides what counts as delivered.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "mamori/util/clock.h"
#include "mamori/util/result.h"

namespace mamori::notify {

struct PostRequest {
  std::string method = "POST";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  Duration timeout = std::chrono::seconds(30);
  bool verify_tls = true;
  std::string ca_file;
};

struct PostResponse {
  long status = 0;
  std::string body;  // at most 64 KiB
};

Result<PostResponse> HttpPost(const PostRequest& request);

// "HTTP 404: {"message":"no such hook"}": status plus the start of the body on
// one line, for answers shown to people.
std::string DescribeHttpAnswer(const PostResponse& r);

// Makes curl_global_init run once, before any handle is made.
void EnsureCurlInitialised();

}  // namespace mamori::notify
