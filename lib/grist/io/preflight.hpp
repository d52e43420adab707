// The checks every program makes before any work (docs/design.md,
// "Behaviour every program keeps"): the files of a run do not collide, every
// input can be opened, and the spill directory takes temporary files. A
// missing second input thus fails before the first is read, and a bad -T
// fails even when the run would not have spilled.
//
//   grist::RunFiles f;
//   f.add_inputs("FILE", o.files);
//   f.add_output("-o", c.output);
//   f.temp_dir = c.temp_dir;
//   grist::check_run_files(f);
//
// The rules (each program's man page and docs/reliability.md say them):
//   - Two outputs of one run never name the same file, compared as files
//     (device and inode, symlinks followed; by resolved path when it does
//     not exist yet), not as strings; two "-" both mean standard output. A
//     character device such as /dev/null may take several outputs.
//   - An output may name an input, as in `sort -o`: a file output is
//     written to a temporary and renamed over the input only after the
//     input was read to its end. Not so an output that is written through
//     (a FIFO, a block device): it may not be an input. No output may lie
//     in an input directory (a part of a partition directory being read),
//     and no input in an output directory.
//   - The spill directory is not an output, nor inside an output
//     directory. An output file inside it is fine: spill files have no
//     names there.
#pragma once

#include <string>
#include <vector>

namespace grist {

struct RunFiles {
  struct File {
    std::string option;  // as messages show it: "-o", "-f", "FILE"
    std::string path;
  };
  std::vector<File> inputs;       // "-" is stdin, always fine
  std::vector<File> outputs;      // "-" or "" is stdout
  std::vector<File> output_dirs;  // partition directories written
  // The spill directory, or empty when the run never spills.
  std::string temp_dir;
  std::string temp_option = "-T";
  bool input_dirs = false;  // directories may be inputs (grist-merge)

  void add_input(std::string option, std::string path) {
    inputs.push_back({std::move(option), std::move(path)});
  }
  void add_inputs(const std::string& option, const std::vector<std::string>& paths) {
    for (const auto& p : paths) add_input(option, p);
  }
  void add_output(std::string option, std::string path) {
    outputs.push_back({std::move(option), std::move(path)});
  }
  void add_output_dir(std::string option, std::string path) {
    output_dirs.push_back({std::move(option), std::move(path)});
  }
};

// Throws grist::UsageError when files collide (the rules above), naming
// both options; then grist::Error ("FILE: cannot open: REASON", "FILE: is a
// directory", "DIR: cannot create temporary file: REASON") for the first
// input that cannot be read or a spill directory that takes no file.
// Opens each regular input once (and closes it); a FIFO or device input is
// only checked for read permission, so that its writer sees nothing.
void check_run_files(const RunFiles& files);

}  // namespace grist
