// DeferredHttpClient: an HttpClient that makes its real client on the first
// Fetch() instead of at construction. The daemon and the verbs make their
// HTTP client up front; with this, a configuration that never fetches
// anything never opens libcurl (util/lazy_library.h) nor starts the client's
// I/O thread (docs/ARCHITECTURE.md, "Footprint").
//
// Ownership: owns the real client once made; destroying it destroys that one
// (which cancels its outstanding requests). Threading: Fetch() may be called
// from any thread; the first calls serialise on making the client.
// Failure: when `make` fails (libcurl cannot be opened), that Fetch's `done`
// gets the error at once, on the caller's thread, and a later Fetch tries
// `make` again.
#pragma once

#include <functional>
#include <memory>

#include "mamori/net/http_client.h"
#include "mamori/util/result.h"

namespace mamori {

using MakeClientOnce = std::function<Result<std::unique_ptr<HttpClient>>()>;

std::unique_ptr<HttpClient> MakeDeferredHttpClient(MakeClientOnce make);

}  // namespace mamori
