// The model grist-serve answers with, and its replacement while serving.
//
//   grist::serve::ModelHolder holder(grist::serve::load_model("spam.gsgd"));
//   auto m = holder.get();          // a reference for one request
//   score with m->model ...         // m stays valid even if replaced meanwhile
//   holder.set(load_model(...));    // requests already holding the old one finish on it
//
// A LoadedModel is immutable once made; the holder swaps whole
// std::shared_ptr values under a mutex, so a request pays one lock and one
// reference count, and the old model is freed by whoever drops its last
// reference.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <sys/types.h>

#include "grist/sgd/examples.hpp"
#include "grist/sgd/model.hpp"

namespace grist::serve {

struct LoadedModel {
  std::unique_ptr<sgd::Model> model;  // weights only
  sgd::ParseOptions parse;            // prediction_parse_options(model)
  std::string path;                   // as given
  std::string hash;                   // XXH3-64 of the file's bytes, 16 hex digits
  uint64_t file_bytes = 0;
  double loaded_at = 0;               // Unix time, seconds
  uint64_t generation = 0;            // 1, 2, ...: distinct for every load in the process
  // The file's identity when it was read (for the watcher).
  dev_t dev = 0;
  ino_t ino = 0;
  int64_t mtime_ns = 0;
};

// Reads `path` whole, hashes the bytes and parses them (Model::from_bytes):
// the hash always names the bytes that were parsed, even when the file is
// replaced while it is read. Throws grist::Error naming the file for one
// that cannot be read or is not a good model.
std::shared_ptr<const LoadedModel> load_model(const std::string& path);

class ModelHolder {
 public:
  explicit ModelHolder(std::shared_ptr<const LoadedModel> m = nullptr) : m_(std::move(m)) {}
  std::shared_ptr<const LoadedModel> get() const {
    std::lock_guard<std::mutex> lock(mu_);
    return m_;
  }
  void set(std::shared_ptr<const LoadedModel> m) {
    std::lock_guard<std::mutex> lock(mu_);
    m_.swap(m);
    // The old model (now in m) is released after the lock, outside it.
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const LoadedModel> m_;
};

}  // namespace grist::serve
