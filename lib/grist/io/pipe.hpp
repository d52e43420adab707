// Pipe buffers sized for streaming.
#pragma once

namespace grist {

// If `fd` is a pipe whose buffer is smaller than 1 MiB, asks the kernel to
// grow it to 1 MiB (Linux's default limit for unprivileged processes).
// With the default 64 KiB, a producer and a consumer each on its own core
// hand over 16 times as many slices, and both sleep and wake that often:
// `grist-tokenize | grist-count` loses a fifth of its throughput to it.
// Never shrinks a buffer; failures (not a pipe, over the limit) change
// nothing and are not errors.
void widen_pipe(int fd);

}  // namespace grist
