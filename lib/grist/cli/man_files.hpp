// The man-page paragraphs every program shares about its files and signals
// (docs/design.md, "Files and compression" and "Behaviour every program
// keeps"): each tool appends them to its description, so that the six
// pages say the same thing in the same words.
#pragma once

#include <string>

namespace grist::cli {

// What "Compression:" says is read by content: the inputs, and for the SGD
// programs the model too.
inline constexpr const char* kManInputs = "inputs";
inline constexpr const char* kManInputsAndModel = "inputs and the model";
inline constexpr const char* kManInputsAndInitial = "inputs and -i";

// How large a zstd window or xz dictionary a program reads: within its -S
// budget (the programs with -S) or any.
enum class Window { within_memory, any };

// The man pages' "Compression:" paragraph about the inputs (`what`), and
// with `levels` about the output's codec and --level.
inline std::string compression_paragraph(const char* what, Window window, bool levels = true) {
  std::string s = std::string("Compression: ") + what +
                  " are recognised by their first bytes, not their names: plain, gzip, zstd, "
                  "bzip2 or xz, concatenated streams included; a truncated or corrupt stream, "
                  "or bytes after the last one, is an error naming the file. ";
  s += window == Window::within_memory
           ? "A zstd frame's window (2^N bytes after zstd --long=N) or an xz dictionary may "
             "take up to the -S budget (at least 128 MiB); a larger one is refused with the "
             "-S that would read it."
           : "Any zstd window (zstd --long=N) or xz dictionary is read, taking that much "
             "memory.";
  if (levels) {
    s += " An output named .zst, .gz, .bz2 or .xz is written with that codec (with --zstd: "
         "zstd whatever its name) at --level N within the codec's range (zstd 1-22, gzip "
         "1-9, bzip2 1-9, xz 0-9; defaults 3, 6, 9, 6): a level outside the range of the "
         "output's codec, or a level for an uncompressed output, is a usage error. The "
         "compressed bytes do not depend on -j.";
  }
  return s;
}

inline constexpr const char* kManFilesAndSignals =
    "Outputs. A file output (-o; -f and --readable-model of grist-train-sgd) is written "
    "to a temporary name beside it, .NAME.grist-tmp.PROGRAM.HOST.PID.N, and renamed onto "
    "it at the end: it is either the complete new output or untouched. An existing file "
    "keeps its mode (and its owner and group where allowed). A symlink is followed: the "
    "file it names is replaced (or created, if the link dangles) and the link stays. A "
    "device or FIFO (/dev/null, /dev/full, a named pipe) is written through, as sort -o "
    "does: /dev/full is a \"No space left on device\" error, a FIFO's reader gets the bytes "
    "as they are made. /dev/stdout and /dev/fd/N are those descriptors. A partition "
    "directory (-p) follows the same rules: a symlink to an empty or missing directory "
    "is followed.\n\n"
    "Files that collide. Two outputs of one run may not name the same file, however "
    "named (a symlink, a hard link, /dev/stdout for standard output): a usage error "
    "naming both options (a character device such as /dev/null may take both). An "
    "output may name an input, as with sort -o: inputs are read to their end before the "
    "output replaces anything. A FIFO may not be both; no output may lie in an input "
    "directory nor an input in an output directory; -T may not be an output nor lie in "
    "an output directory. An output inside -T is fine.\n\n"
    "Checks before any work. Every input (and the model or word list an option names) "
    "must exist and be readable, and a spill directory (-T, else $TMPDIR, else /tmp: "
    "grist-count, grist-shuffle-sort, grist-merge, and grist-train-sgd with --passes above "
    "1 or -T) must take a temporary file, even when the run would not spill: else exit "
    "status 1, naming it, before the first input is read. Standard input is always "
    "fine.\n\n"
    "Signals. Every signal whose default action ends a process (SIGHUP, SIGINT, "
    "SIGQUIT, SIGPIPE, SIGALRM, SIGTERM, SIGUSR1, SIGUSR2, SIGXCPU, SIGXFSZ, SIGVTALRM, "
    "SIGPROF, SIGIO, SIGPWR, the real-time signals) removes the run's temporaries, then "
    "ends the process with that signal's status (128+N). A signal inherited as ignored "
    "(nohup, a background job's SIGINT) stays ignored, as in sort. A closed standard "
    "output or FIFO ends the program quietly, as it ends cat. A file size limit (ulimit "
    "-f) is exit status 1: \"FILE: file size limit exceeded\". After SIGKILL nothing can "
    "clean up: find DIR -name '.*.grist-tmp.*' lists the leftovers, whose names say "
    "which program on which host made them.";

}  // namespace grist::cli
