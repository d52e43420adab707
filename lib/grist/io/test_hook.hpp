// Test-only stop points: a moment of a run that a test can catch.
//
// A test that sends a signal "in the middle of a spilling run" cannot know,
// after a sleep, where the run was (or whether it had already ended). With
// the environment variable GRIST_TEST_STOP_AT=POINT[:N] the program stops
// itself (SIGSTOP, the whole process) the Nth time (default 1) any of its
// threads reaches POINT; the test waits for the stopped state
// (/proc/PID/stat), sends its signal, then SIGCONT. The run is then known
// to be mid-way, so the test can insist that it was killed and committed
// nothing (tests/e2e/faults/signals.bash).
//
// Points:
//   spill   a sorted run, an intermediate merge run or a bucket frame of
//           --random was written to the spill directory (-T)
//   merge   a merge pass over spilled runs or inputs begins
//   output  a block of an output file reached its temporary file
//   commit  a temporary output (file, part or directory) is about to be
//           renamed into place
//   pass    a training pass begins (grist-train-sgd; pass 2 on reads the
//           example cache in -T)
//
// Unset (always, outside tests), a point costs one call and one branch; the
// variable is read once.
#pragma once

namespace grist {

// Stops the process (raise(SIGSTOP)) when `point` is the one named in
// GRIST_TEST_STOP_AT and this is its Nth hit; otherwise returns at once.
// Thread-safe; `point` is one of the names above.
void test_stop_point(const char* point);

}  // namespace grist
