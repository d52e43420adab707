#include "grist/sort/partition_dir.hpp"

#include <sys/stat.h>
#include <xxhash.h>

#include <simdjson.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <stdexcept>

#include "grist/error.hpp"
#include "grist/io/block_reader.hpp"
#include "grist/io/paths.hpp"

#ifndef GRIST_VERSION
#define GRIST_VERSION "0.0.0"
#endif

namespace grist {

namespace fs = std::filesystem;

std::string partition_file_name(uint32_t part) {
  char b[32];
  std::snprintf(b, sizeof b, "part-%05u.zst", part);
  return b;
}

namespace {

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char b[8];
      std::snprintf(b, sizeof b, "\\u%04x", c);
      out += b;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string hex64(uint64_t v) {
  char b[20];
  std::snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(v));
  return b;
}

XXH3_state_t* new_xxh3() {
  XXH3_state_t* st = XXH3_createState();
  if (!st) throw std::bad_alloc();
  XXH3_64bits_reset(st);
  return st;
}

}  // namespace

// ---- PartSink

PartSink::PartSink(std::unique_ptr<Sink> sink)
    : sink_(std::move(sink)), buf_(new char[kBuffer]), state_(new_xxh3()) {}

PartSink::~PartSink() { XXH3_freeState(static_cast<XXH3_state_t*>(state_)); }

void PartSink::flush() {
  if (used_ == 0) return;
  XXH3_64bits_update(static_cast<XXH3_state_t*>(state_), buf_.get(), used_);
  sink_->write(buf_.get(), used_);
  used_ = 0;
}

void PartSink::write_slow(const char* p, size_t n) {
  flush();
  if (n >= kBuffer) {
    XXH3_64bits_update(static_cast<XXH3_state_t*>(state_), p, n);
    sink_->write(p, n);
  } else {
    std::memcpy(buf_.get(), p, n);
    used_ = n;
  }
}

void PartSink::commit() {
  flush();
  sink_->commit();
  checksum_ = XXH3_64bits_digest(static_cast<XXH3_state_t*>(state_));
}

uint64_t PartSink::checksum() const { return checksum_; }
uint64_t PartSink::bytes_in() const { return sink_->bytes_in(); }
uint64_t PartSink::bytes_out() const { return sink_->bytes_out(); }

// ---- PartitionWriter

PartitionWriter::PartitionWriter(std::string dir, uint32_t partitions, std::string tool,
                                 const SinkOptions& opts)
    : dir_(std::move(dir)), partitions_(partitions), tool_(std::move(tool)), opts_(opts) {
  while (dir_.size() > 1 && dir_.back() == '/') dir_.pop_back();
  if (partitions_ < 1 || partitions_ > 100000) {
    throw UsageError("the number of partitions must be 1..100000");
  }
  // A symlink is followed, as for file outputs: the directory it names (an
  // empty one, or none yet) is replaced, the temporary beside it.
  OutputTarget t = resolve_output(dir_, dir_);
  if (t.kind == OutputTarget::Kind::directory) {
    std::error_code ec;
    if (!fs::is_empty(t.path, ec) || ec) {
      throw Error(dir_, "output directory exists and is not empty (remove it or choose another)");
    }
  } else if (t.kind != OutputTarget::Kind::file || t.exists) {
    throw Error(dir_, "exists and is not a directory");
  }
  target_ = t.path;
  opts_.force_zstd = true;  // parts are zstd whatever the directory's name
  check_level(Compression::zstd, opts_.level, "the parts of " + dir_);
  records_.assign(partitions_, 0);
  bytes_.assign(partitions_, 0);
  file_bytes_.assign(partitions_, 0);
  checksums_.assign(partitions_, 0);
  done_.assign(partitions_, 0);
  temp_ = TempPath::create_directory(temp_sibling_name(target_), dir_);
  if (t.kind == OutputTarget::Kind::directory) (void)!::chmod(temp_.path().c_str(), t.st.st_mode & 07777);
}

PartitionWriter::~PartitionWriter() = default;

uint64_t PartitionWriter::records() const {
  uint64_t n = 0;
  for (auto r : records_) n += r;
  return n;
}

// Part files are written inside the temporary directory, but errors name
// them where the user will look for them.
std::unique_ptr<Sink> PartitionWriter::open_sink(const std::string& file, bool part) const {
  SinkOptions o = part ? opts_ : SinkOptions{};
  o.name = dir_ + "/" + file;
  return Sink::open(temp_.path() + "/" + file, o);
}

void PartitionWriter::open_part(uint32_t part) {
  sink_ = std::make_unique<PartSink>(open_sink(partition_file_name(part), true));
  current_ = part;
}

void PartitionWriter::finish_part(uint32_t part, PartSink& sink) {
  sink.commit();
  bytes_[part] = sink.bytes_in();
  file_bytes_[part] = sink.bytes_out();
  checksums_[part] = sink.checksum();
  done_[part] = 1;
}

void PartitionWriter::close_part() {
  if (!sink_) return;
  finish_part(static_cast<uint32_t>(current_), *sink_);
  sink_.reset();
}

void PartitionWriter::write_part(uint32_t part,
                                 const std::function<uint64_t(PartSink&)>& fill) {
  if (part >= partitions_ || done_[part]) {
    throw std::logic_error("PartitionWriter: part written twice or out of range");
  }
  PartSink sink(open_sink(partition_file_name(part), true));
  records_[part] = fill(sink);
  finish_part(part, sink);
}

void PartitionWriter::add(uint32_t part, std::string_view key, std::string_view value) {
  if (static_cast<int64_t>(part) != current_) {
    if (static_cast<int64_t>(part) < current_ || part >= partitions_) {
      throw std::logic_error("PartitionWriter: records out of partition order");
    }
    close_part();
    for (int64_t p = current_ + 1; p < part; ++p) {  // empty parts in between
      open_part(static_cast<uint32_t>(p));
      close_part();
    }
    open_part(part);
  }
  sink_->write(key);
  sink_->put('\t');
  sink_->write(value);
  sink_->put('\n');
  ++records_[part];
}

void PartitionWriter::commit() {
  if (committed_) return;
  close_part();
  for (uint32_t p = 0; p < partitions_; ++p) {
    if (done_[p]) continue;
    open_part(p);
    close_part();
  }
  std::string m = "{\n  \"tool\": " + json_string(tool_) + ",\n  \"version\": " +
                  json_string(GRIST_VERSION) + ",\n  \"partitions\": " +
                  std::to_string(partitions_) + ",\n  \"hash\": " +
                  json_string(kPartitionHashName) + ",\n  \"checksum\": " +
                  json_string(kPartChecksumName) + ",\n  \"parts\": [\n";
  for (uint32_t p = 0; p < partitions_; ++p) {
    m += "    {\"file\": " + json_string(partition_file_name(p)) +
         ", \"records\": " + std::to_string(records_[p]) +
         ", \"bytes\": " + std::to_string(file_bytes_[p]) +
         ", \"uncompressed_bytes\": " + std::to_string(bytes_[p]) +
         ", \"xxh3_64\": \"" + hex64(checksums_[p]) + "\"}" +
         (p + 1 < partitions_ ? ",\n" : "\n");
  }
  m += "  ]\n}\n";
  auto manifest = open_sink("_manifest.json", false);
  manifest->write(m);
  manifest->commit();
  open_sink("_SUCCESS", false)->commit();
  temp_.rename_to(target_, dir_);
  committed_ = true;
}

bool is_partition_directory(const std::string& path) {
  std::error_code ec;
  return fs::is_directory(path, ec) &&
         (fs::exists(path + "/_SUCCESS", ec) || fs::exists(path + "/_manifest.json", ec));
}

namespace {

// A checked part: counts and hashes the bytes read, and compares them with
// the manifest when the inner source reaches its end.
class VerifiedPartSource : public Source {
 public:
  VerifiedPartSource(std::unique_ptr<Source> inner, const PartInfo& part)
      : inner_(std::move(inner)), part_(part), state_(new_xxh3()) {}
  ~VerifiedPartSource() override { XXH3_freeState(state_); }

  size_t read(char* buf, size_t n) override {
    if (n == 0) return 0;
    size_t r = inner_->read(buf, n);
    if (r > 0) {
      XXH3_64bits_update(state_, buf, r);
      bytes_ += r;
      lines_ += count_newlines(buf, r);
      last_ = buf[r - 1];
    } else if (!checked_) {
      checked_ = true;
      check();
    }
    return r;
  }
  const std::string& name() const override { return inner_->name(); }
  Compression compression() const override { return inner_->compression(); }
  uint64_t raw_bytes_read() const override { return inner_->raw_bytes_read(); }
  uint64_t raw_size() const override { return inner_->raw_size(); }

 private:
  void check() {
    const uint64_t records = lines_ + (bytes_ > 0 && last_ != '\n' ? 1 : 0);
    const std::string tail =
        ": the part is not the one its manifest (" + part_.manifest + ") describes";
    if (records != part_.records) {
      throw Error(part_.path, "holds " + std::to_string(records) + " records where the manifest "
                              "says " + std::to_string(part_.records) + tail);
    }
    if (bytes_ != part_.uncompressed_bytes) {
      throw Error(part_.path, "decompresses to " + std::to_string(bytes_) + " bytes where the "
                              "manifest says " + std::to_string(part_.uncompressed_bytes) + tail);
    }
    uint64_t sum = XXH3_64bits_digest(state_);
    if (sum != part_.checksum) {
      throw Error(part_.path, "checksum mismatch: XXH3-64 " + hex64(sum) + " where the manifest "
                              "says " + hex64(part_.checksum) + tail);
    }
  }

  std::unique_ptr<Source> inner_;
  PartInfo part_;
  XXH3_state_t* state_;
  uint64_t bytes_ = 0, lines_ = 0;
  char last_ = '\n';
  bool checked_ = false;
};

void check_part_size(const PartInfo& part) {
  struct stat st;
  if (::stat(part.path.c_str(), &st) != 0) {
    if (errno == ENOENT) throw Error(part.path, "missing part file (listed in " + part.manifest + ")");
    throw_errno(part.path, "cannot read the part");
  }
  if (!S_ISREG(st.st_mode)) throw Error(part.path, "is not a regular file");
  if (static_cast<uint64_t>(st.st_size) != part.bytes) {
    throw Error(part.path, "is " + std::to_string(st.st_size) + " bytes where the manifest says " +
                               std::to_string(part.bytes) + ": the part is not the one its "
                               "manifest (" + part.manifest + ") describes");
  }
}

bool parse_hex64(std::string_view s, uint64_t& v) {
  if (s.size() != 16) return false;
  v = 0;
  for (char c : s) {
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (d < 0) return false;
    v = v << 4 | static_cast<uint64_t>(d);
  }
  return true;
}

// Entry p of the manifest's "parts" (its file name checked).
PartInfo manifest_part(simdjson::ondemand::object part, uint32_t p, const std::string& dir,
                       const std::string& mpath) {
  const std::string remake = ": make the directory again";
  const std::string what = "part " + std::to_string(p);
  PartInfo info;
  info.manifest = mpath;
  std::string_view file = part["file"].get_string();
  if (file != partition_file_name(p)) {
    throw Error(mpath, what + " is '" + std::string(file) + "', expected '" +
                           partition_file_name(p) + "'");
  }
  info.path = dir + "/" + std::string(file);
  auto field = [&](const char* name, uint64_t& v) {
    if (part[name].get_uint64().get(v) != simdjson::SUCCESS) {
      throw Error(mpath, what + " has no \"" + std::string(name) +
                             "\" (an unsigned integer)" + remake);
    }
  };
  field("records", info.records);
  field("bytes", info.bytes);
  field("uncompressed_bytes", info.uncompressed_bytes);
  std::string_view sum;
  if (part["xxh3_64"].get_string().get(sum) != simdjson::SUCCESS ||
      !parse_hex64(sum, info.checksum)) {
    throw Error(mpath, what + " has no \"xxh3_64\" checksum (16 hex digits)" + remake);
  }
  return info;
}

// A part the manifest does not list (more partitions than it says, or a
// stray copy): merging without it would lose its records.
void check_no_stray_parts(const PartitionDirectory& d, const std::string& mpath) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(d.dir, ec)) {
    std::string name = entry.path().filename().string();
    if (name.rfind("part-", 0) != 0) continue;
    unsigned p = 0;
    if (std::sscanf(name.c_str(), "part-%u", &p) == 1 && p < d.partitions &&
        name == partition_file_name(p)) {
      continue;
    }
    throw Error(d.dir + "/" + name, "a part file the manifest (" + mpath + ") does not list: "
                                    "the directory holds " + std::to_string(d.partitions) +
                                    " partitions");
  }
  if (ec) throw Error(d.dir, "cannot list the directory: " + ec.message());
}

}  // namespace

std::unique_ptr<Source> open_part(const PartInfo& part) {
  check_part_size(part);
  return std::make_unique<VerifiedPartSource>(Source::open(part.path), part);
}

PartitionDirectory open_partition_directory(const std::string& dir_arg) {
  std::string dir = dir_arg;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw Error(dir, "not a partition directory");
  if (!fs::exists(dir + "/_SUCCESS", ec)) {
    throw Error(dir, "no _SUCCESS marker: the partition directory is incomplete");
  }
  PartitionDirectory d;
  d.dir = dir;
  const std::string mpath = dir + "/_manifest.json";
  if (!fs::exists(mpath, ec)) {
    throw Error(mpath, "missing: a partition directory needs its manifest");
  }
  const std::string remake = ": make the directory again";
  try {
    simdjson::padded_string json = simdjson::padded_string::load(mpath);
    simdjson::ondemand::parser parser;
    simdjson::ondemand::document doc = parser.iterate(json);
    simdjson::ondemand::object top = doc.get_object();
    std::string_view tool = top["tool"].get_string();
    d.tool = std::string(tool);
    uint64_t n = top["partitions"].get_uint64();
    if (n < 1 || n > 100000) throw Error(mpath, "bad number of partitions");
    d.partitions = static_cast<uint32_t>(n);
    std::string_view hash = top["hash"].get_string();
    if (hash != kPartitionHashName) {
      throw Error(mpath, "unknown partition hash " + quote_input(hash));
    }
    std::string_view checksum;
    if (top["checksum"].get_string().get(checksum) != simdjson::SUCCESS) {
      throw Error(mpath, "no per-part checksums (a manifest of an older grist, or edited)" +
                             remake);
    }
    if (checksum != kPartChecksumName) {
      throw Error(mpath, "unknown checksum '" + std::string(checksum) + "'");
    }
    simdjson::ondemand::array parts = top["parts"].get_array();
    for (simdjson::ondemand::object part : parts) {
      const uint32_t p = static_cast<uint32_t>(d.parts.size());
      if (p >= d.partitions) {
        throw Error(mpath, "lists more parts than its " + std::to_string(n) + " partitions");
      }
      d.parts.push_back(manifest_part(part, p, dir, mpath));
    }
    if (d.parts.size() != d.partitions) {
      throw Error(mpath, "lists " + std::to_string(d.parts.size()) + " parts but has " +
                             std::to_string(n) + " partitions");
    }
  } catch (const simdjson::simdjson_error& e) {
    throw Error(mpath, std::string("cannot read the manifest: ") + e.what());
  }
  for (const PartInfo& part : d.parts) check_part_size(part);
  check_no_stray_parts(d, mpath);
  return d;
}

}  // namespace grist
