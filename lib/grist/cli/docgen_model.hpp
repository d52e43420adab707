// The options model the doc writers share (internal to lib/grist/cli): a
// tool's CLI11 definition flattened into one Opt per option, in definition
// order, and the text helpers the writers have in common. The writers are
// one file each: docgen_man.cpp, docgen_bash.cpp, docgen_zsh.cpp,
// docgen_fish.cpp; the meta-test is docgen_lint.cpp. What is read from the
// definition, and the convention for enumerated values, are in docgen.hpp.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "grist/cli/app.hpp"

namespace grist::cli::docgen {

enum class ValueKind { flag, file, dir, choice, other };

struct Opt {
  const CLI::Option* option = nullptr;
  std::vector<std::string> shorts;  // "-o"
  std::vector<std::string> longs;   // "--output"
  bool positional = false;
  std::string pname;                // positional's name, e.g. "FILE"
  std::string type;                 // "FILE", "N"; empty for a flag
  bool repeat = false;              // takes several values (FILE...)
  bool terminal = false;            // --help, --version: nothing else follows
  std::string description;
  std::string default_value;
  std::vector<std::string> values;  // enumerated values
  ValueKind kind = ValueKind::flag;
  std::string heading;              // the group it is listed under
  std::vector<std::string> excludes;  // names of the options it excludes

  std::vector<std::string> names() const {
    std::vector<std::string> all = shorts;
    all.insert(all.end(), longs.begin(), longs.end());
    return all;
  }
};

// Every option of `app` and of its option groups, hidden ones included when
// `with_hidden` (then `hidden`, if given, tells which).
void collect(const CLI::App& app, const CLI::App& root, bool group_hidden,
             const std::string& group_heading, bool with_hidden, std::vector<Opt>& out,
             std::vector<bool>* hidden);

// The options a reader sees: what every writer documents.
std::vector<Opt> visible_options(const CLI::App& app);

// The first positional of `opts`, or nullptr.
const Opt* first_positional(const std::vector<Opt>& opts);

// CLI11's full type name is TYPE[:VALIDATOR-DESCRIPTION]...: its parts.
std::vector<std::string> type_components(const std::string& full);
// "{a,b->1,c}" -> a, b, c; is_set tells whether a part has that form.
std::vector<std::string> set_values(const std::string& comp);
bool is_set(const std::string& comp);
// Values listed as "(one of: a, b, c)" at the end of a description.
std::vector<std::string> described_values(const std::string& description);
// The type names CLI11 gives by itself (TEXT, INT, ...), which say nothing.
bool is_generic_type(const std::string& type);

// Text helpers.
std::string trim(const std::string& s);
std::vector<std::string> split_lines(const std::string& s);
std::string one_line(const std::string& s);  // whitespace runs to one space, trimmed
std::string lower(std::string s);
std::string upper(std::string s);
std::string join(const std::vector<std::string>& v, const std::string& sep);
std::string sh_quote(const std::string& s);  // a single-quoted word for sh, bash, zsh

// The writers (see generate_docs in docgen.hpp).
std::string generate_man(const CLI::App& app, const std::string& name, const std::string& summary,
                         const ManText& man, const std::string& version);
std::string generate_bash(const CLI::App& app, const std::string& name, const std::string& version);
std::string generate_zsh(const CLI::App& app, const std::string& name, const std::string& version);
std::string generate_fish(const CLI::App& app, const std::string& name, const std::string& version);

}  // namespace grist::cli::docgen
