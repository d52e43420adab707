// The partition-directory reader: whatever _manifest.json holds,
// open_partition_directory() either returns a directory whose part list
// matches its partition count and whose sizes match the files, or refuses
// it with grist::Error; never a crash, and no other exception type (a
// simdjson_error must not escape). Each part of an accepted directory is
// then read through open_part(): it reads back exactly the file's bytes
// and is accepted only when the manifest's records, uncompressed bytes and
// XXH3-64 are those of the file; otherwise grist::Error at its end.
//
// The directory holds three plain parts (a reader sniffs the format, so a
// plain part reads as itself): "", "a\t1\n" and "b\t2\nc" (2 records, the
// last without '\n'). tests/fuzz/corpus/partition_dir/good is their valid
// manifest.
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <cstdio>
#include <string>

#include "fuzz_util.hpp"
#include "grist/error.hpp"
#include "grist/sort/partition_dir.hpp"

namespace {

const char* const kParts[] = {"", "a\t1\n", "b\t2\nc"};
const uint64_t kRecords[] = {0, 1, 2};

std::string make_dir() {
  char tmpl[] = "/tmp/grist-fuzz-pdir.XXXXXX";
  if (!mkdtemp(tmpl)) grist_fuzz::fail("mkdtemp");
  std::string d = tmpl;
  for (uint32_t p = 0; p < 3; ++p) {
    std::FILE* f = std::fopen((d + "/" + grist::partition_file_name(p)).c_str(), "w");
    if (!f) grist_fuzz::fail("cannot write a part");
    std::fputs(kParts[p], f);
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
  grist::PartitionDirectory d;
  try {
    d = grist::open_partition_directory(dir);
  } catch (const grist::Error&) {
    return 0;
  }
  FUZZ_CHECK(d.partitions >= 1 && d.partitions <= 3);
  FUZZ_CHECK(d.parts.size() == d.partitions);
  FUZZ_CHECK(d.dir == dir);
  for (uint32_t p = 0; p < d.partitions; ++p) {
    const grist::PartInfo& part = d.parts[p];
    const std::string want = kParts[p];
    FUZZ_CHECK(part.path == dir + "/" + grist::partition_file_name(p));
    FUZZ_CHECK(part.bytes == want.size());
    std::string got;
    try {
      auto src = grist::open_part(part);
      char buf[3];  // small reads: the checks must hold across them
      while (size_t n = src->read(buf, sizeof buf)) got.append(buf, n);
    } catch (const grist::Error&) {
      FUZZ_CHECK(part.records != kRecords[p] || part.uncompressed_bytes != want.size() ||
                 part.checksum != XXH3_64bits(want.data(), want.size()));
      continue;
    }
    FUZZ_CHECK(got == want);
    FUZZ_CHECK(part.records == kRecords[p]);
    FUZZ_CHECK(part.uncompressed_bytes == want.size());
    FUZZ_CHECK(part.checksum == XXH3_64bits(want.data(), want.size()));
  }
  return 0;
}
