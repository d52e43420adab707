// Where grist-count and grist-shuffle-sort write their records: one file
// (or standard output) of `key\tvalue` lines, or, with -p N, a partition
// directory of N parts (partition_dir.hpp).
//
//   grist::RecordOutput out(path, partitions, "grist-count", sink_options);
//   ... write into out.file() or out.directory() ...
//   out.commit();
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "grist/io/sink.hpp"
#include "grist/sort/partition_dir.hpp"

namespace grist {

class RecordOutput {
 public:
  // partitions == 0: the file `path` ("" or "-": standard output), opened
  // with Sink::open; else the partition directory `path` of that many
  // parts, written by `tool` (its manifest says so). Opened now, so that an
  // unwritable target fails before any work. Throws grist::Error.
  RecordOutput(const std::string& path, uint32_t partitions, const std::string& tool,
               const SinkOptions& sink);

  // Exactly one of these is non-null.
  Sink* file() const { return file_.get(); }
  PartitionWriter* directory() const { return directory_.get(); }

  // Commits the file or the directory (complete, or an error is thrown).
  void commit();

 private:
  std::unique_ptr<Sink> file_;
  std::unique_ptr<PartitionWriter> directory_;
};

}  // namespace grist
