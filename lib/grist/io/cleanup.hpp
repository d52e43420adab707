// Removal of temporary files and directories on every exit path.
//
// Outputs are built under temporary names and renamed into place on success
// (DESIGN.md: atomic outputs). Paths registered here are removed when the
// owner gives up (error, exception) and also when SIGINT, SIGTERM or SIGHUP
// arrive: install_signal_cleanup() starts a thread that waits for those
// signals, removes every registered path, then lets the signal kill the
// process with its usual status.
#pragma once

#include <string>

namespace grist {

// Blocks SIGINT/SIGTERM/SIGHUP in the calling thread (and so in every thread
// created after it) and starts the cleanup thread. Call once, first thing in
// main, before any other thread exists. Idempotent.
void install_signal_cleanup();

// Registers a path to remove (recursively, if a directory) when a signal
// ends the process. Register BEFORE creating the file, so that no moment
// exists in which it is on disk but unknown; prefer TempPath::create_file
// and create_directory, which also make sure that no file appears after
// the signal's sweep. Thread-safe.
void register_temp_path(const std::string& path);

// Forgets a path (after it was renamed into place or removed). Thread-safe.
void unregister_temp_path(const std::string& path);

// Removes a file or a directory tree; errors are ignored.
void remove_path_quietly(const std::string& path);

// Holds a registered temporary path; removes it on destruction unless
// release()d. Movable, not copyable.
class TempPath {
 public:
  TempPath() = default;
  explicit TempPath(std::string path);

  // Creates a new file (O_CREAT|O_EXCL, mode 0666 less umask) or directory
  // at `path`, registered. Registration and creation happen under the
  // registry's lock, which the signal sweep takes and keeps until the
  // process dies: a temporary is either swept or never created. Throws
  // grist::Error naming `target` (the final name the user knows).
  static TempPath create_file(const std::string& path, const std::string& target, int* fd);
  static TempPath create_directory(const std::string& path, const std::string& target);
  TempPath(TempPath&& other) noexcept;
  TempPath& operator=(TempPath&& other) noexcept;
  TempPath(const TempPath&) = delete;
  TempPath& operator=(const TempPath&) = delete;
  ~TempPath();

  const std::string& path() const { return path_; }
  bool empty() const { return path_.empty(); }
  // The path now belongs to the caller (it was renamed away): forget it.
  void release();
  // Removes the path now and forgets it.
  void remove();
  // Renames the path to `to` (atomically) and forgets it; throws
  // grist::Error naming `to`. If SIGINT/SIGTERM/SIGHUP is already pending
  // (the cleanup thread has not run yet), nothing is renamed: the thread
  // sweeps the temporary and ends the process. A pipeline killed as a whole
  // thus never commits the output of a consumer that saw its producer's EOF
  // before its own signal was handled.
  void rename_to(const std::string& to);

 private:
  std::string path_;
};

// A name for a temporary sibling of `target`, in the same directory (so that
// rename is atomic): "DIR/.NAME.grist-tmp.PID.N".
std::string temp_sibling_name(const std::string& target);

// The spill directory: `dir` if not empty, else $TMPDIR, else /tmp.
std::string resolve_temp_dir(const std::string& dir);

// Opens an anonymous read-write file in `dir` (O_TMPFILE, or mkstemp and an
// immediate unlink): it vanishes when closed, on every exit path. Returns
// the descriptor; throws grist::Error naming `dir`.
int open_anonymous_temp_file(const std::string& dir);

}  // namespace grist
