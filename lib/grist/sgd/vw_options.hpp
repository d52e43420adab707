// Vowpal Wabbit's options and grist-train-sgd's: the man page's table and
// the answer to a VW spelling on grist's command line (grist/cli/
// foreign_options.hpp), from this one table.
#pragma once

#include "grist/cli/foreign_options.hpp"

namespace grist::sgd {

const cli::ForeignOptions& vw_train_options();

}  // namespace grist::sgd
