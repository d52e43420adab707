#include "grist/sort/partition_dir.hpp"

#include <sys/stat.h>

#include <simdjson.h>

#include <cstdio>
#include <filesystem>
#include <stdexcept>

#include "grist/error.hpp"
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

}  // namespace

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
  sink_ = open_sink(partition_file_name(part), true);
  current_ = part;
}

void PartitionWriter::close_part() {
  if (!sink_) return;
  sink_->commit();
  bytes_[current_] = sink_->bytes_in();
  file_bytes_[current_] = sink_->bytes_out();
  done_[current_] = 1;
  sink_.reset();
}

void PartitionWriter::write_part(uint32_t part, const std::function<uint64_t(Sink&)>& fill) {
  if (part >= partitions_ || done_[part]) {
    throw std::logic_error("PartitionWriter: part written twice or out of range");
  }
  auto sink = open_sink(partition_file_name(part), true);
  records_[part] = fill(*sink);
  sink->commit();
  bytes_[part] = sink->bytes_in();
  file_bytes_[part] = sink->bytes_out();
  done_[part] = 1;
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
                  json_string(kPartitionHashName) + ",\n  \"parts\": [\n";
  for (uint32_t p = 0; p < partitions_; ++p) {
    m += "    {\"file\": " + json_string(partition_file_name(p)) +
         ", \"records\": " + std::to_string(records_[p]) +
         ", \"bytes\": " + std::to_string(file_bytes_[p]) +
         ", \"uncompressed_bytes\": " + std::to_string(bytes_[p]) + "}" +
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

PartitionDirectory open_partition_directory(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw Error(dir, "not a partition directory");
  if (!fs::exists(dir + "/_SUCCESS", ec)) {
    throw Error(dir, "no _SUCCESS marker: the partition directory is incomplete");
  }
  PartitionDirectory d;
  d.dir = dir;
  std::string mpath = dir + "/_manifest.json";
  try {
    simdjson::padded_string json = simdjson::padded_string::load(mpath);
    simdjson::ondemand::parser parser;
    simdjson::ondemand::document doc = parser.iterate(json);
    std::string_view tool = doc["tool"].get_string();
    d.tool = std::string(tool);
    uint64_t n = doc["partitions"].get_uint64();
    std::string_view hash = doc["hash"].get_string();
    if (hash != kPartitionHashName) {
      throw Error(mpath, "unknown partition hash " + quote_input(hash));
    }
    if (n < 1 || n > 100000) throw Error(mpath, "bad number of partitions");
    d.partitions = static_cast<uint32_t>(n);
  } catch (const simdjson::simdjson_error& e) {
    throw Error(mpath, std::string("cannot read the manifest: ") + e.what());
  }
  for (uint32_t p = 0; p < d.partitions; ++p) {
    std::string part = dir + "/" + partition_file_name(p);
    if (!fs::is_regular_file(part, ec)) throw Error(part, "missing part file");
    d.parts.push_back(part);
  }
  return d;
}

}  // namespace grist
