#include "grist/io/preflight.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "grist/error.hpp"
#include "grist/io/cleanup.hpp"
#include "grist/io/paths.hpp"

namespace grist {

namespace {

bool is_stdio(const std::string& path) { return path.empty() || path == "-"; }

std::string show(const RunFiles::File& f) {
  if (is_stdio(f.path)) return f.option + " -";
  return f.option + " " + f.path;
}

// An output's identity; standard output is its descriptor's.
FileIdentity output_identity(const RunFiles::File& f) {
  return is_stdio(f.path) ? identify_descriptor(STDOUT_FILENO) : identify_file(f.path);
}

// Outputs that land in one file. Two character devices (/dev/null) are
// fine: nothing is replaced and nothing mixes that anyone reads back.
void check_outputs(const std::vector<RunFiles::File>& outs) {
  for (size_t i = 0; i < outs.size(); ++i) {
    for (size_t j = i + 1; j < outs.size(); ++j) {
      const auto &a = outs[i], &b = outs[j];
      if (is_stdio(a.path) && is_stdio(b.path)) {
        throw UsageError(a.option + " and " + b.option + " both write to standard output");
      }
      FileIdentity ia = output_identity(a), ib = output_identity(b);
      if (same_file(ia, ib) && !(ia.exists && S_ISCHR(ia.mode))) {
        throw UsageError(show(a) + " and " + show(b) + " name the same file");
      }
    }
  }
}

void check_inputs_against_outputs(const RunFiles& f) {
  for (const auto& in : f.inputs) {
    if (is_stdio(in.path)) continue;
    FileIdentity ii = identify_file(in.path);
    const bool in_dir = ii.exists && S_ISDIR(ii.mode);
    for (const auto& out : f.outputs) {
      if (is_stdio(out.path)) continue;
      FileIdentity io = identify_file(out.path);
      if (in_dir && path_within(io.path, ii.path)) {
        throw UsageError(show(out) + " is inside the input directory " + in.path);
      }
      // A file output replaces an input only after reading it (atomic
      // rename); one written through would be read while it is written.
      if (same_file(ii, io) && io.exists && !S_ISREG(io.mode) && !S_ISCHR(io.mode)) {
        throw UsageError(show(out) + " is also an input, and is written in place (not a "
                         "regular file)");
      }
    }
    for (const auto& out : f.output_dirs) {
      FileIdentity io = identify_file(out.path);
      if (path_within(ii.path, io.path) || (in_dir && path_within(io.path, ii.path))) {
        throw UsageError(show(out) + " and the input " + in.path + " overlap: an output " +
                         "directory is built apart and replaces its target whole");
      }
    }
  }
}

void check_temp_dir(const RunFiles& f) {
  if (f.temp_dir.empty()) return;
  FileIdentity it = identify_file(f.temp_dir);
  for (const auto& out : f.outputs) {
    if (is_stdio(out.path)) continue;
    if (same_file(it, identify_file(out.path))) {
      throw UsageError(show(out) + " and " + f.temp_option + " " + f.temp_dir +
                       " name the same directory");
    }
  }
  for (const auto& out : f.output_dirs) {
    FileIdentity io = identify_file(out.path);
    if (same_file(it, io)) {
      throw UsageError(show(out) + " and " + f.temp_option + " " + f.temp_dir +
                       " name the same directory");
    }
    if (path_within(it.path, io.path)) {
      throw UsageError(f.temp_option + " " + f.temp_dir + " is inside the output directory " +
                       out.path + ", which is replaced when the run ends");
    }
  }
}

void check_readable(const RunFiles::File& in, bool dirs) {
  if (is_stdio(in.path)) return;
  const std::string& p = in.path;
  struct stat st;
  if (::stat(p.c_str(), &st) != 0) throw_errno(p, "cannot open");
  if (S_ISDIR(st.st_mode)) {
    if (!dirs) throw Error(p, "is a directory");
    int fd = ::open(p.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) throw_errno(p, "cannot open");
    ::close(fd);
  } else if (S_ISREG(st.st_mode)) {
    int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw_errno(p, "cannot open");
    ::close(fd);
  } else if (::access(p.c_str(), R_OK) != 0) {
    // A FIFO's writer would see a reader come and go; a device may act on
    // open (a tape rewinds): permission is all that is checked.
    throw_errno(p, "cannot open");
  }
}

}  // namespace

void check_run_files(const RunFiles& f) {
  std::vector<RunFiles::File> all_outputs = f.outputs;
  all_outputs.insert(all_outputs.end(), f.output_dirs.begin(), f.output_dirs.end());
  check_outputs(all_outputs);
  check_inputs_against_outputs(f);
  check_temp_dir(f);
  for (const auto& in : f.inputs) check_readable(in, f.input_dirs);
  if (!f.temp_dir.empty()) ::close(open_anonymous_temp_file(f.temp_dir));
}

}  // namespace grist
