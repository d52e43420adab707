// Another program's option names, for users who come from it: one table
// per program feeds both the man page (a subsection of DESCRIPTION: their
// spelling, then ours) and the usage errors (an unknown option that is
// theirs is answered with ours, however far the spellings are apart).
//
//   ForeignOptions vw{"Vowpal Wabbit", "Coming from Vowpal Wabbit", "...", {
//       {"-b --bit_precision", "-b, --bits N", "--bits"},
//       {"-c --cache", "not needed: ...", ""}}};
//   tool.man().foreign = vw;
//
//   $ grist-train-sgd --holdout_off
//   grist-train-sgd: unrecognized option '--holdout_off'
//   grist-train-sgd: did you mean '--holdout-every 0'? (--holdout_off is Vowpal Wabbit's name)
#pragma once

#include <string>
#include <vector>

namespace grist::cli {

struct ForeignOption {
  // The other program's spellings, space-separated: "-b --bit_precision".
  std::string names;
  // What to write here instead, as the man page's second column: "-b,
  // --bits N", or what to do when no option does it ("not needed: ...").
  std::string ours;
  // The "did you mean" answer: our option, with its value where the
  // foreign option stands for one ("--holdout-every 0"); empty: there is
  // none, and the error quotes `ours` instead.
  std::string suggest;
};

struct ForeignOptions {
  std::string program;  // "Vowpal Wabbit"
  std::string title;    // the man page's subsection heading
  std::string intro;    // a paragraph before the table
  std::vector<ForeignOption> options;

  // The entry with `name` ("--holdout_off", "-c") among its spellings, or
  // null.
  const ForeignOption* find(const std::string& name) const {
    for (const auto& o : options) {
      size_t at = 0;
      while (at < o.names.size()) {
        size_t end = o.names.find(' ', at);
        if (end == std::string::npos) end = o.names.size();
        if (o.names.compare(at, end - at, name) == 0) return &o;
        at = end + 1;
      }
    }
    return nullptr;
  }

  // The lines that answer an unknown option `name` of ours that is theirs
  // (after "unrecognized option"), or none.
  std::vector<std::string> answer(const std::string& name) const {
    const ForeignOption* o = find(name);
    if (!o) return {};
    if (!o->suggest.empty()) {
      return {"did you mean '" + o->suggest + "'? (" + name + " is " + program + "'s name)"};
    }
    return {name + " is " + program + "'s option: " + o->ours};
  }
};

}  // namespace grist::cli
