// Partition directories (docs/design.md "Partition directories"): writing
// one, and opening one for reading.
//
//   grist::PartitionWriter w("out.d", 16, "grist-count", sink_opts);
//   // records in RecordOrder{16} order: partition by partition, each sorted
//   w.add(key, value); ...
//   w.commit();   // manifest, _SUCCESS, rename into place
//
//   grist::PartitionDirectory d = grist::open_partition_directory("out.d");
//   for (auto& part : d.parts) ... grist::open_part(part) ...  // verified
//
// Layout: part-00000.zst ... part-(N-1) (zstd, always, whatever the level),
// `_manifest.json` and `_SUCCESS` (written last). The directory is built
// under a temporary sibling name (registered for removal on SIGINT/SIGTERM
// and on destruction without commit) and renamed into place by commit().
//
// The manifest records, for each part, its records (lines), its size on
// disk ("bytes"), its size once decompressed ("uncompressed_bytes") and the
// XXH3-64 of its decompressed bytes ("xxh3_64", 16 hex digits). Readers
// check the sizes on disk when they open the directory, before any work,
// and the rest as each part is read, in the same pass (open_part), so a
// part that was truncated, replaced, edited or re-compressed with other
// content is an error naming it, never a silently shorter result. The
// checksum is of the decompressed bytes, the data readers consume: the
// zstd frame checksums already cover the compressed bytes, and a part
// that decodes to exactly the recorded bytes is right whatever its
// compression.
#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "grist/io/cleanup.hpp"
#include "grist/io/sink.hpp"
#include "grist/io/source.hpp"
#include "grist/record/partition.hpp"

namespace grist {

// "part-00042.zst"
std::string partition_file_name(uint32_t part);

// The hash description written to manifests: "xxh3_64 seed 0 mod N".
constexpr const char* kPartitionHashName = "xxh3_64 seed 0 mod N";
// What the per-part "xxh3_64" of a manifest is a checksum of.
constexpr const char* kPartChecksumName = "xxh3_64 of the uncompressed bytes";

// The output of one part: a buffer in front of the part's Sink that keeps
// the XXH3-64 of the bytes written, for the manifest. Same writing
// interface as Sink. Not thread-safe; one per part.
class PartSink {
 public:
  explicit PartSink(std::unique_ptr<Sink> sink);
  ~PartSink();
  PartSink(const PartSink&) = delete;
  PartSink& operator=(const PartSink&) = delete;

  void write(const char* p, size_t n) {
    if (n <= kBuffer - used_) {
      if (n) std::memcpy(buf_.get() + used_, p, n);
      used_ += n;
    } else {
      write_slow(p, n);
    }
  }
  void write(std::string_view s) { write(s.data(), s.size()); }
  void put(char c) {
    if (used_ == kBuffer) flush();
    buf_[used_++] = c;
  }

  // Flushes and commits the part's Sink (grist::Error on failure).
  void commit();
  uint64_t checksum() const;                // after commit()
  uint64_t bytes_in() const;                // uncompressed bytes, after commit()
  uint64_t bytes_out() const;               // bytes on disk, after commit()

 private:
  static constexpr size_t kBuffer = 128 << 10;
  void write_slow(const char* p, size_t n);
  void flush();

  std::unique_ptr<Sink> sink_;
  std::unique_ptr<char[]> buf_;
  size_t used_ = 0;
  void* state_;  // XXH3_state_t
  uint64_t checksum_ = 0;
};

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
  PartitionWriter(const PartitionWriter&) = delete;  // owns the temporary directory
  PartitionWriter& operator=(const PartitionWriter&) = delete;

  // Appends a record to partition partition_of(key, N). Records must come
  // in RecordOrder{N} order (partition ascending, then key); throws
  // std::logic_error if the partition goes backwards.
  void add(std::string_view key, std::string_view value) {
    add(partition_of(key, partitions_), key, value);
  }
  // Same, with the partition already known (it must equal partition_of).
  void add(uint32_t part, std::string_view key, std::string_view value);

  // Writes a whole part at once, for callers that build parts in parallel:
  // opens the part's sink, lets `fill` write its records (lines sorted by
  // key) and return how many it wrote, and commits the sink. Thread-safe
  // for distinct parts; not to be mixed with add(). Each part at most once.
  void write_part(uint32_t part, const std::function<uint64_t(PartSink&)>& fill);

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
  void finish_part(uint32_t part, PartSink& sink);

  std::string dir_;
  std::string target_;  // dir_ with its symlinks followed
  uint32_t partitions_;
  std::string tool_;
  SinkOptions opts_;
  TempPath temp_;
  std::unique_ptr<PartSink> sink_;
  int64_t current_ = -1;
  std::vector<uint64_t> records_, bytes_, file_bytes_, checksums_;
  std::vector<uint8_t> done_;  // parts already written
  bool committed_ = false;
};

// A part as its directory's manifest describes it.
struct PartInfo {
  std::string path;  // dir + "/" + partition_file_name(p)
  uint64_t records = 0;
  uint64_t bytes = 0;  // the file's size
  uint64_t uncompressed_bytes = 0;
  uint64_t checksum = 0;  // XXH3-64 of the uncompressed bytes
  std::string manifest;   // the manifest's path, for messages
};

struct PartitionDirectory {
  std::string dir;
  uint32_t partitions = 0;
  std::vector<PartInfo> parts;  // part 0 first
  std::string tool;             // from the manifest
};

// Opens a finished partition directory, checking everything that can be
// checked without reading the parts. Refuses, with a grist::Error naming
// the directory, the manifest or the part: a directory without _SUCCESS; a
// missing, unreadable or malformed _manifest.json (one without the per-part
// checksums, written by an older grist, included); a hash other than
// kPartitionHashName; a parts list that does not match the partition
// count; a missing part file, or one whose size differs from the
// manifest's; a part-* file the manifest does not list.
PartitionDirectory open_partition_directory(const std::string& dir);

// Opens a part for reading: its size is checked again now, and its
// records, uncompressed bytes and checksum as it is read. When the
// returned Source reaches the end of the part, a difference from the
// manifest throws grist::Error naming the part (so an output built from it
// is not committed). A reader that stops before the end checks no more.
std::unique_ptr<Source> open_part(const PartInfo& part);

// True if `path` is a directory holding _SUCCESS or _manifest.json (for
// tools that accept files and partition directories alike).
bool is_partition_directory(const std::string& path);

}  // namespace grist
