// What the files of lib/grist/cli share about usage errors (internal).
#pragma once

#include <CLI/CLI.hpp>

#include "grist/cli/foreign_options.hpp"

#include <functional>
#include <string>
#include <vector>

namespace grist::cli {

// "invalid argument 'V' for 'OPTION': WHY", the one form of a bad value.
std::string invalid(const std::string& value, const std::string& option, const std::string& why);

// 0.5, 1000000: %g without its cut at six digits.
std::string real_text(double v);

// Makes every option's checks speak as grist's do (see "Option values" in
// app.hpp): CLI11's validators reworded, an empty FILE or DIR refused.
void harden(CLI::App& app);

// The long option of `app` nearest to `arg` ("--thread" -> "--threads"),
// or "" when none is near.
std::string did_you_mean(const CLI::App& app, const std::string& arg);

// CLI11's message for `e`, in the words GNU programs use (getopt's "option
// '--x' requires an argument", "extra operand 'x'") or grist's own; `args`
// are the command-line arguments after the program name.
std::string parse_error_message(const CLI::ParseError& e, const std::vector<std::string>& args);

// Calls `say` for each unknown option in `args` (with a "did you mean"
// line after an unknown long option, or `foreign`'s answer for an option
// that is the other program's); returns whether there was one.
bool report_unknown_options(CLI::App& app, const std::vector<std::string>& args,
                            const std::function<void(const std::string&)>& say,
                            const ForeignOptions* foreign = nullptr);

}  // namespace grist::cli
