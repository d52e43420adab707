// Partition directories (DESIGN.md "Partition directories"): writing one,
// and opening one for reading.
//
//   grist::PartitionWriter w("out.d", 16, "grist-count", sink_opts);
//   // records in RecordOrder{16} order: partition by partition, each sorted
//   w.add(key, value); ...
//   w.commit();   // manifest, _SUCCESS, rename into place
//
//   grist::PartitionDirectory d = grist::open_partition_directory("out.d");
//   for (auto& part : d.parts) ... grist::Source::open(part) ...
//
// Layout: part-00000.zst ... part-(N-1) (zstd, always, whatever the level),
// `_manifest.json` and `_SUCCESS` (written last). The directory is built
// under a temporary sibling name (registered for removal on SIGINT/SIGTERM
// and on destruction without commit) and renamed into place by commit().
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "grist/io/cleanup.hpp"
#include "grist/io/sink.hpp"
#include "grist/record/partition.hpp"

namespace grist {

// "part-00042.zst"
std::string partition_file_name(uint32_t part);

// The hash description written to manifests: "xxh3_64 seed 0 mod N".
constexpr const char* kPartitionHashName = "xxh3_64 seed 0 mod N";

class PartitionWriter {
 public:
  // Refuses (grist::Error naming `dir`) when `dir` exists and is not an
  // empty directory, as Hadoop refuses an existing output directory; an
  // existing empty directory is replaced (keeping its mode). A symlink is
  // followed: the directory it names is the one built (or replaced), and
  // the link stays. Creates the temporary directory
  // now, so that an unwritable parent fails before any work. `partitions`
  // must be 1..100000. Only one part file is open at a time.
  PartitionWriter(std::string dir, uint32_t partitions, std::string tool,
                  const SinkOptions& opts);
  ~PartitionWriter();  // without commit(): the temporary directory is removed

  // Appends a record to partition partition_of(key, N). Records must come
  // in RecordOrder{N} order (partition ascending, then key); throws
  // std::logic_error if the partition goes backwards.
  void add(std::string_view key, std::string_view value) {
    add(partition_of(key, partitions_), key, value);
  }
  // Same, with the partition already known (it must equal partition_of).
  void add(uint32_t part, std::string_view key, std::string_view value);

  // Writes a whole part at once, for callers that build parts in parallel:
  // opens the part's sink, lets `fill` write its records (sorted by key)
  // and return how many it wrote, and commits the sink. Thread-safe for
  // distinct parts; not to be mixed with add(). Each part at most once.
  void write_part(uint32_t part, const std::function<uint64_t(Sink&)>& fill);

  // Closes the last part, creates the missing (empty) parts, writes
  // _manifest.json then _SUCCESS, and renames the directory into place.
  void commit();

  uint32_t partitions() const { return partitions_; }
  uint64_t records() const;

 private:
  // A part file (zstd, opts_) or another file of the directory (plain).
  std::unique_ptr<Sink> open_sink(const std::string& file, bool part) const;
  void open_part(uint32_t part);
  void close_part();

  std::string dir_;
  std::string target_;  // dir_ with its symlinks followed
  uint32_t partitions_;
  std::string tool_;
  SinkOptions opts_;
  TempPath temp_;
  std::unique_ptr<Sink> sink_;
  int64_t current_ = -1;
  std::vector<uint64_t> records_, bytes_, file_bytes_;
  std::vector<uint8_t> done_;  // parts already written
  bool committed_ = false;
};

struct PartitionDirectory {
  std::string dir;
  uint32_t partitions = 0;
  std::vector<std::string> parts;  // full paths, part 0 first
  std::string tool;                // from the manifest
};

// Opens a finished partition directory: refuses (grist::Error naming it) a
// directory without _SUCCESS, a missing or unreadable _manifest.json, a
// manifest whose hash is not kPartitionHashName, or a missing part file.
PartitionDirectory open_partition_directory(const std::string& dir);

// True if `path` is a directory holding _SUCCESS or _manifest.json (for
// tools that accept files and partition directories alike).
bool is_partition_directory(const std::string& path);

}  // namespace grist
