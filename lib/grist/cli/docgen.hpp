// Man pages and shell completions generated from a tool's CLI11 definition,
// so that --help, man/grist-TOOL.1 and completions/ cannot drift apart.
//
//   grist-count --generate man  > man/grist-count.1
//   grist-count --generate bash > completions/bash/grist-count
//   grist-count --generate zsh  > completions/zsh/_grist-count
//   grist-count --generate fish > completions/fish/grist-count.fish
//
// (scripts/gen-docs.sh does all of it; tests/e2e/docs/generated.sh checks
// that the committed files equal a fresh generation.)
//
// The options model is docgen_model.hpp; the man page writer is
// docgen_man.cpp, each shell's completion writer a file of its own
// (docgen_bash.cpp, docgen_zsh.cpp, docgen_fish.cpp), and lint_options is
// docgen_lint.cpp.
//
// What is read from the definition
// --------------------------------
// Every option of the app and of its option groups (nameless sub-apps made
// by add_option_group, walked recursively), in definition order. An option
// whose group is empty, or that sits in an option group whose group is
// empty, is hidden: it appears nowhere (not in the man page, not in any
// completion). Named subcommands are not documented (grist tools have none).
//
// For each visible option: its short and long names, its type name (the part
// of CLI11's type name before the first ':'; a flag has none), its
// description, its default if CLI11 holds one (default_str or
// capture_default_str), the options it excludes, and:
//
// Value kinds (for completion). From the type name and the descriptions of
// the option's validators:
//   - FILE, or a type name ending in FILE (MODEL_FILE): a file;
//     CLI::ExistingFile, CLI::ExistingPath and CLI::NonexistentPath say so by
//     themselves (a bare PATH does not: it may be a JSON path);
//   - DIR, or a type name ending in DIR: a directory (CLI::ExistingDirectory);
//   - an enumerated set of values (below);
//   - anything else (N, SIZE, ...): a value with no completion.
// Positionals (FILE...) are completed as files unless their type says
// otherwise.
//
// Enumerated values: the convention
// ---------------------------------
// An option has a fixed set of values when
//   1. its full CLI11 type name has a component "{a,b,c}" — which is what
//      ->check(CLI::IsMember({"a", "b", "c"})) (or ->transform with
//      CLI::IsMember / a map, keys only) adds to it — or its type_name is set
//      to "{a,b,c}" by hand; or else
//   2. its description ends with "(one of: a, b, c)" (optionally followed by
//      a '.').
// The values are words: no ',', no whitespace. Prefer 1 (CLI11 then also
// refuses other values); the man page lists the values either way.
//
// Man page date
// -------------
// mandoc -Tlint wants a parsable date in .TH, and the output must not depend
// on the day it is generated, so the date is kManDate, a constant that is
// bumped when the release the pages describe changes (with GRIST_VERSION).
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "grist/cli/app.hpp"

namespace grist::cli {

// The date in every generated man page's .TH line (see above).
inline constexpr const char* kManDate = "2026-11-28";

// kind: "man", "bash", "zsh" or "fish". Returns the whole file's text.
// Throws grist::UsageError on an unknown kind. The output depends only on
// the definition (no dates, no paths), so committed files can be diffed
// against a fresh generation in a test.
//   name:    the program, e.g. "grist-count" (.TH GRIST-COUNT 1, the
//            completion function _grist_count, complete -c grist-count)
//   summary: one line for NAME ("grist-count \- SUMMARY")
//   man:     SYNOPSIS (default "[OPTION]... " plus the positionals),
//            DESCRIPTION (paragraphs separated by blank lines; the summary
//            when empty), EXAMPLES (lines "$ command" are set as code, other
//            lines explain; blank lines separate), SEE ALSO.
//   version: shown in the man page footer ("grist VERSION").
std::string generate_docs(const std::string& kind, const CLI::App& app, const std::string& name,
                          const std::string& summary, const ManText& man,
                          const std::string& version);

// The meta-test on a definition (docs/design.md, "Common options"). Returns one line per
// problem, empty when the definition is clean:
//   - a name (short, long or positional) used twice, hidden options included;
//   - a visible value option without a type name of its own: none, or only
//     CLI11's generic one (TEXT, INT, UINT, FLOAT, ...) — say N, SIZE, FILE;
//   - a visible option or positional without a description;
//   - a line of the formatted --help wider than 79 columns.
std::vector<std::string> lint_options(const CLI::App& app);

// The enumerated values of one option, by the convention above (empty when
// it has none). Exposed for tests and for tools' own option tests.
std::vector<std::string> enumerated_values(const CLI::Option& option);

}  // namespace grist::cli
