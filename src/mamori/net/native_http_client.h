// The native HTTP/1.1 client for plain http:// URLs, on Boost.Asio/Beast
// (already in the binary for the web server), so checks and webhooks over
// plain HTTP never need libcurl: no curl_global_init, no per-transfer set-up
// of a general-purpose library (docs/ARCHITECTURE.md, "Footprint").
//
// Same contract as the libcurl client (http_client.h): one I/O thread of its
// own; Fetch() from any thread; `done` called exactly once on that thread; at
// most `max_concurrent` requests in flight, up to 65,536 more queued (beyond,
// `done` gets an error); destroying the client cancels queued and running
// requests with an error. Every stage (name lookup, connect, write, the wait
// for the answer, header, body) ends at the request's timeout, measured from
// the start of the request. One connection per request, closed after it: a
// monitor must see the real connect every time, as the curl client does.
// Body: at most max_body_bytes kept; the rest is read and discarded up to
// 4 MiB more (body_truncated set), then the connection is closed, so an
// endless body costs bounded time and memory. Headers: 64 KiB at most.
// A redirect to anything but http:// (https:// above all) is handed, with what
// is left of the timeout and of max_redirects, to `fallback()`.
//
// MakeNativeHttpClientOn runs the same client on a loop of the caller's
// instead of a thread of its own (the daemon's checks: a fetch and its
// completion never change thread, which saves two wake-ups and two context
// switches per check; docs/ARCHITECTURE.md, "Footprint"). `done` then runs on
// that loop's thread; Fetch() may still be called from any thread, and never
// calls `done` before it returns. Destroy it on that thread or while the loop
// does not run: it then cancels what is queued and in flight at once.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>

#include "mamori/net/http_client.h"

namespace mamori {

// Whether the native client can fetch `request` exactly as the curl client
// would: an http:// URL of the subset ParseHttpUrl accepts whose host is an
// address or localhost (other names need a parallel resolver and a DNS cache:
// libcurl has both), and no Accept-Encoding header of the caller's (curl
// would decode the answer).
bool NativeHttpCanFetch(const HttpRequest& request);

// Whether an environment variable sends plain http:// through a proxy for
// libcurl (http_proxy, all_proxy, ALL_PROXY); the native client speaks to
// servers directly, so while one is set such requests stay with libcurl.
bool HttpProxyConfigured();

// `fallback` returns the client for redirects the native one cannot follow;
// it is called on the native I/O thread and must outlive the native client.
std::unique_ptr<HttpClient> MakeNativeHttpClient(size_t max_concurrent,
                                                 std::function<HttpClient&()> fallback);
std::unique_ptr<HttpClient> MakeNativeHttpClientOn(boost::asio::io_context& io,
                                                   size_t max_concurrent,
                                                   std::function<HttpClient&()> fallback);

}  // namespace mamori
