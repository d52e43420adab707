// Man pages and shell completions generated from a tool's CLI11 definition,
// so that --help, man/grist-TOOL.1 and completions/ cannot drift apart.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "grist/cli/app.hpp"

namespace grist::cli {

// kind: "man", "bash", "zsh" or "fish". Returns the whole file's text.
// Throws grist::UsageError on an unknown kind. The output depends only on
// the definition (no dates, no paths), so committed files can be diffed
// against a fresh generation in a test.
std::string generate_docs(const std::string& kind, const CLI::App& app, const std::string& name,
                          const std::string& summary, const ManText& man,
                          const std::string& version);

}  // namespace grist::cli
