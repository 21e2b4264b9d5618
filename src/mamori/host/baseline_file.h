// DATA_DIR/baseline.json: the learned baseline (baseline.h), kept across
// restarts and edited by `mamori baseline accept|forget`.
//
// Format: {"version": 1, "created": <unix ms>, "items": [{"kind": "listener",
// "name": "443/tcp", "detail": "nginx", "learned": <unix ms>}, ...]}. Written
// whole, atomically (a temporary file, fsync, rename, fsync of the directory),
// so a crash leaves the old or the new file, never half of one. Read with a
// size cap; a file that is not a baseline of this version is an Error with
// what to do, never a crash, and is left in place for a person to look at.
//
// The daemon's check and the CLI verbs both read-modify-write the file;
// Update() serialises them with an exclusive lock on DATA_DIR/baseline.lock,
// waited for until a deadline. Thread-safe as far as the file system is.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "mamori/host/baseline.h"
#include "mamori/util/clock.h"
#include "mamori/util/result.h"

namespace mamori::host::baseline {

inline constexpr int kFileVersion = 1;
inline constexpr size_t kMaxFileBytes = 8 << 20;
inline constexpr size_t kMaxItems = 8000;

struct Entry {
  Item item;
  WallTime learned{};
};

struct Document {
  WallTime created{};          // when the first item was learned (or accepted)
  std::vector<Entry> entries;  // sorted by item key, unique

  bool Has(const Item& i) const;
  // Adds or refreshes (detail) the item; false when the document is full.
  bool Add(const Item& i, WallTime now);
  // Removes every item named `name` (of any kind); returns how many.
  size_t Forget(const std::string& name);
  std::vector<Item> Items() const;
};

std::string BaselinePath(const std::string& data_dir);

std::string ToJson(const Document& d);
// `origin` names the file in error messages.
Result<Document> FromJson(const std::string& text, const std::string& origin);

// A missing file is an empty document (nothing learned yet).
Result<Document> Load(const std::string& path);
Result<bool> Save(const std::string& path, const Document& d);

// Under the lock: loads, calls `change` (which returns whether it changed the
// document), and saves when it did. Returns the document as it now is. A
// corrupt file is returned as the Error and left untouched.
Result<Document> Update(const std::string& data_dir, MonoTime deadline, const Clock& clock,
                        const std::function<bool(Document&)>& change);

}  // namespace mamori::host::baseline
