// The partition-directory manifest reader: whatever _manifest.json holds,
// open_partition_directory() either returns a directory whose part list
// matches its partition count, or refuses it with grist::Error; never a
// crash, and no other exception type (a simdjson_error must not escape).
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "fuzz_util.hpp"
#include "grist/error.hpp"
#include "grist/sort/partition_dir.hpp"

namespace {

std::string make_dir() {
  char tmpl[] = "/tmp/grist-fuzz-pdir.XXXXXX";
  if (!mkdtemp(tmpl)) grist_fuzz::fail("mkdtemp");
  std::string d = tmpl;
  for (int p = 0; p < 3; ++p) {
    std::FILE* f = std::fopen((d + "/" + grist::partition_file_name(p)).c_str(), "w");
    std::fclose(f);
  }
  std::FILE* f = std::fopen((d + "/_SUCCESS").c_str(), "w");
  std::fclose(f);
  return d;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string dir = make_dir();
  static const std::string manifest = dir + "/_manifest.json";
  std::FILE* f = std::fopen(manifest.c_str(), "w");
  if (!f) grist_fuzz::fail("cannot write the manifest");
  if (size) std::fwrite(data, 1, size, f);
  std::fclose(f);
  try {
    grist::PartitionDirectory d = grist::open_partition_directory(dir);
    FUZZ_CHECK(d.partitions >= 1 && d.partitions <= 3);
    FUZZ_CHECK(d.parts.size() == d.partitions);
    FUZZ_CHECK(d.dir == dir);
  } catch (const grist::Error&) {
  }
  return 0;
}
