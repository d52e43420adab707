// Placeholder until the generator lands.
#include "grist/cli/docgen.hpp"
#include "grist/error.hpp"
namespace grist::cli {
std::string generate_docs(const std::string& kind, const CLI::App&, const std::string&,
                          const std::string&, const ManText&, const std::string&) {
  throw UsageError("--generate " + kind + " is not available yet");
}
}  // namespace grist::cli
