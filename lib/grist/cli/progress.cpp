// Progress lines on stderr (Progress in app.hpp).
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "grist/cli/app.hpp"
#include "grist/io/block_reader.hpp"
#include "grist/record/memsize.hpp"
#include "grist/sort/run.hpp"

namespace grist::cli {

namespace {

// Seconds between two progress lines on a non-terminal.
double plain_interval() {
  const char* env = std::getenv("GRIST_PROGRESS_INTERVAL");
  if (env && *env) {
    char* end = nullptr;
    double v = std::strtod(env, &end);
    if (end && *end == '\0' && v > 0 && v < 1e6) return v;
  }
  return 5.0;
}

std::string clock_text(double seconds) {
  long s = std::lround(seconds);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  }
  return buf;
}

}  // namespace

std::string Progress::format_line(const std::string& program, const std::string& label,
                                  uint64_t done, uint64_t total, double seconds) {
  double rate = seconds > 0 ? done / seconds : 0;
  char buf[64];
  std::snprintf(buf, sizeof buf, "  %.1f MB/s", rate / 1e6);
  std::string line = program + ": " + label + " " + format_bytes(done) + buf;
  if (total > 0 && done <= total) {
    std::snprintf(buf, sizeof buf, "  %.0f%%", 100.0 * done / total);
    line += buf;
    if (rate > 0) line += "  ETA " + clock_text((total - done) / rate);
  }
  return line;
}

Progress::Progress(const Tool& tool, std::string label, const BlockReader& reader)
    : Progress(tool, std::move(label), [&reader] { return reader.raw_bytes_read(); },
               [&reader] { return reader.raw_size_total(); }) {}

std::optional<Progress> Progress::of_merge(const Tool& tool, const SpillMergeGauge& gauge,
                                           uint64_t spills, uint64_t spill_bytes,
                                           uint64_t merge_passes) {
  if (spills == 0) return std::nullopt;
  return std::optional<Progress>(
      std::in_place, tool, SpillMergeGauge::label(spills), [&gauge] { return gauge.done(); },
      [spill_bytes, merge_passes] { return SpillMergeGauge::total(spill_bytes, merge_passes); });
}

Progress::Progress(const Tool& tool, std::string label, std::function<uint64_t()> done,
                   std::function<uint64_t()> total)
    : program_(tool.name()),
      label_(std::move(label)),
      done_(std::move(done)),
      total_(std::move(total)),
      start_(std::chrono::steady_clock::now()) {
  if (!tool.common().progress) return;
  terminal_ = isatty(STDERR_FILENO);
  if (terminal_) {
    // A descriptor of its own: stderr is shared with the other programs of
    // the pipeline (one open file description), and flock locks belong to
    // the description, so only a fresh open makes the lock exclusive.
    const char* tty = ttyname(STDERR_FILENO);
    if (tty) tty_fd_ = ::open(tty, O_RDONLY | O_NOCTTY | O_CLOEXEC);
  }
  thread_ = std::thread([this] { loop(); });
}

Progress::~Progress() { stop(); }

void Progress::stop() {
  if (!thread_.joinable()) return;
  stop_ = true;
  thread_.join();
  if (terminal_) {
    if (drawing_) std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
    if (tty_fd_ >= 0) ::close(tty_fd_);  // releases the lock
    tty_fd_ = -1;
  } else {
    draw(true);
  }
}

void Progress::draw(bool final) {
  double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  uint64_t done = done_(), total = total_();
  if (final) {
    std::fprintf(stderr, "%s: %s done: %s in %.1f s\n", program_.c_str(), label_.c_str(),
                 format_bytes(done).c_str(), secs);
    std::fflush(stderr);
    return;
  }
  std::string line = format_line(program_, label_, done, total, secs);
  if (terminal_) {
    std::fprintf(stderr, "\r%s\033[K", line.c_str());
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
  std::fflush(stderr);
}

void Progress::loop() {
  const auto tick = std::chrono::milliseconds(10);
  const double interval = terminal_ ? 0.25 : plain_interval();
  auto next = std::chrono::steady_clock::now();
  while (!stop_) {
    next += std::chrono::microseconds(static_cast<int64_t>(interval * 1e6));
    while (!stop_ && std::chrono::steady_clock::now() < next) std::this_thread::sleep_for(tick);
    if (stop_) break;
    if (terminal_ && !drawing_) {
      // Another program of the pipeline may be drawing: wait for its turn.
      if (tty_fd_ >= 0 && flock(tty_fd_, LOCK_EX | LOCK_NB) != 0) continue;
      drawing_ = true;
    }
    draw(false);
  }
}

}  // namespace grist::cli
