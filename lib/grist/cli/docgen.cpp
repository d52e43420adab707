// Dispatch to the writers (docgen_man.cpp and one file per shell) over the
// options model of docgen_model.hpp.
#include "grist/cli/docgen.hpp"

#include "grist/cli/docgen_model.hpp"
#include "grist/error.hpp"

namespace grist::cli {

std::vector<std::string> enumerated_values(const CLI::Option& option) {
  for (const auto& c : docgen::type_components(option.get_type_name())) {
    if (docgen::is_set(docgen::trim(c))) return docgen::set_values(docgen::trim(c));
  }
  return docgen::described_values(option.get_description());
}

std::string generate_docs(const std::string& kind, const CLI::App& app, const std::string& name,
                          const std::string& summary, const ManText& man,
                          const std::string& version) {
  if (kind == "man") return docgen::generate_man(app, name, summary, man, version);
  if (kind == "bash") return docgen::generate_bash(app, name, version);
  if (kind == "zsh") return docgen::generate_zsh(app, name, version);
  if (kind == "fish") return docgen::generate_fish(app, name, version);
  throw UsageError("unknown --generate kind '" + kind + "' (one of: man, bash, zsh, fish)");
}

}  // namespace grist::cli
