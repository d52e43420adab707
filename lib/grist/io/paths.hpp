// Where a path really leads: the target of an output (symlinks followed,
// devices and FIFOs told apart from files), and the identity of a file, so
// that two names of one file are recognised (docs/design.md, "Files and
// compression": special-file outputs, outputs that collide).
//
//   grist::OutputTarget t = grist::resolve_output("out.txt", "out.txt");
//   switch (t.kind) { case OutputTarget::Kind::file: ... temporary beside t.path ... }
#pragma once

#include <sys/stat.h>

#include <string>

namespace grist {

struct OutputTarget {
  enum class Kind {
    // A regular file, or a name that does not exist yet (a dangling
    // symlink's target included): written to a temporary beside `path`
    // and renamed onto `path`.
    file,
    // An existing file that is not a regular file (a character or block
    // device, a FIFO): opened and written through, as `sort -o` does.
    through,
    // A descriptor this process holds (/dev/stdout, /dev/fd/N,
    // /proc/self/fd/N): written to `fd`, which stays open.
    descriptor,
    // An existing directory.
    directory,
  };
  Kind kind = Kind::file;
  // The path with every symlink of its last component followed (so that
  // the temporary goes beside the file the link names, not beside the link).
  std::string path;
  int fd = -1;          // Kind::descriptor
  bool exists = false;  // Kind::file: `path` exists (and `st` holds its stat)
  struct stat st {};
};

// Follows the symlinks of `path` (up to 40, relative ones from the link's
// directory; a dangling one leads to the name it holds) and says what is
// there. Errors name `name` (the path as the user gave it). Throws
// grist::Error on a symlink loop or a descriptor path naming a closed
// descriptor; any other failure (a missing directory, no permission) is
// left to the open or create that follows, so that its message stays the
// usual one.
OutputTarget resolve_output(const std::string& path, const std::string& name);

// The identity of a file for "do these two names denote the same file":
// device and inode when it exists (symlinks followed), else the absolute
// path it would be created at (symlinks followed, the directory resolved).
struct FileIdentity {
  bool exists = false;
  dev_t dev = 0;
  ino_t ino = 0;
  mode_t mode = 0;       // when it exists
  std::string path;      // absolute, symlinks resolved as far as they exist
};
FileIdentity identify_file(const std::string& path);

// Identity of an open descriptor (fstat); `path` empty.
FileIdentity identify_descriptor(int fd);

bool same_file(const FileIdentity& a, const FileIdentity& b);

// True if `inner` is `outer` or lies below it (both absolute, resolved).
bool path_within(const std::string& inner, const std::string& outer);

}  // namespace grist
