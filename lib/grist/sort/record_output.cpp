#include "grist/sort/record_output.hpp"

namespace grist {

RecordOutput::RecordOutput(const std::string& path, uint32_t partitions, const std::string& tool,
                           const SinkOptions& sink) {
  if (partitions) {
    directory_ = std::make_unique<PartitionWriter>(path, partitions, tool, sink);
  } else {
    file_ = Sink::open(path, sink);
  }
}

void RecordOutput::commit() {
  if (directory_) {
    directory_->commit();
  } else {
    file_->commit();
  }
}

}  // namespace grist
