// Removal of temporary files and directories on every exit path.
//
// Outputs are built under temporary names and renamed into place on success
// (docs/design.md: atomic outputs). Paths registered here are removed when
// the owner gives up (error, exception) and also when a signal ends the
// process: install_signal_cleanup() blocks every signal whose default action
// ends a process and that another process sends (SIGHUP, SIGINT, SIGQUIT,
// SIGPIPE, SIGALRM, SIGTERM, SIGUSR1, SIGUSR2, SIGXCPU, SIGXFSZ, SIGVTALRM,
// SIGPROF, SIGIO, SIGPWR, SIGSTKFLT and the real-time signals), and starts a
// thread that waits for them, removes every registered path, then lets the
// signal end the process with its usual status. A signal the process
// inherited as ignored (nohup's SIGHUP, SIGINT and SIGQUIT of a shell's
// background job) stays ignored, as in GNU sort.
//
// Two signals come from the process's own writes and are answered where the
// write fails: a write to a pipe without reader (SIGPIPE: EPIPE) ends the
// process quietly by SIGPIPE after the sweep (end_on_broken_pipe), as it
// ends `cat`; a write past the file size limit (`ulimit -f`, SIGXFSZ:
// EFBIG) is an error, "FILE: file size limit exceeded" (throw_errno).
// Faults (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGSYS, SIGTRAP) and
// SIGKILL cannot be cleaned up after; the temporaries' names say which
// program on which host made them (temp_sibling_name).
#pragma once

#include <string>

namespace grist {

// Blocks the signals above in the calling thread (and so in every thread
// created after it) and starts the cleanup thread. Call once, first thing in
// main, before any other thread exists. Idempotent. `program` (e.g.
// "grist-count") goes into the names of temporaries.
void install_signal_cleanup(const std::string& program = "grist");

// Called by a writer whose write failed with EPIPE. When signal cleanup is
// installed and SIGPIPE was not inherited as ignored, removes every
// registered path and ends the process by SIGPIPE, as the kernel would have
// (quietly: `grist-count | head` must end as `cat | head` does); never
// returns then. Otherwise returns, and the caller reports the error.
void end_on_broken_pipe();

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
  // grist::Error naming `name` (default: `to`). If a signal of the cleanup
  // set is already pending (the cleanup thread has not run yet), nothing is
  // renamed: the thread
  // sweeps the temporary and ends the process. A pipeline killed as a whole
  // thus never commits the output of a consumer that saw its producer's EOF
  // before its own signal was handled.
  void rename_to(const std::string& to, const std::string& name = "");

 private:
  std::string path_;
};

// A name for a temporary sibling of `target`, in the same directory (so that
// rename is atomic): "DIR/.NAME.grist-tmp.PROGRAM.HOST.PID.N", where HOST is
// the first label of the host name, characters other than [A-Za-z0-9_-]
// replaced by '_', at most 32 of them. NAME is shortened when needed so
// that the whole name fits in 255 bytes. After a SIGKILL these names tell
// whose leftovers they are (docs/reliability.md says how to remove them;
// grist never removes another process's: on a shared file system its PID
// may be another machine's).
std::string temp_sibling_name(const std::string& target);

// The "PROGRAM.HOST.PID" part of temporary names.
std::string temp_owner_tag();

// The spill directory: `dir` if not empty, else $TMPDIR, else /tmp.
std::string resolve_temp_dir(const std::string& dir);

// Opens an anonymous read-write file in `dir` (O_TMPFILE, or mkstemp and an
// immediate unlink): it vanishes when closed, on every exit path. Returns
// the descriptor; throws grist::Error naming `dir`.
int open_anonymous_temp_file(const std::string& dir);

}  // namespace grist
