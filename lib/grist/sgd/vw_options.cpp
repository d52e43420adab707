#include "grist/sgd/vw_options.hpp"

namespace grist::sgd {

// VW's spellings as of VW 9. An entry whose names grist shares (-b, -l,
// --l1) is there for the table only: a known option is never answered.
const cli::ForeignOptions& vw_train_options() {
  static const cli::ForeignOptions table{
      "Vowpal Wabbit",
      "Coming from Vowpal Wabbit",
      "Vowpal Wabbit's options (left) and grist-train-sgd's (right). VW's spelling on the "
      "command line is a usage error that names grist's. The defaults match VW's where the "
      "name does: per-coordinate adaptive, normalised updates; with several passes every "
      "tenth line held out, the best held-out pass kept.",
      {
          {"-d --data",
           "give the files as arguments: grist-train-sgd [OPTION]... FILE... (none: standard "
           "input)",
           ""},
          {"-b --bit_precision", "-b, --bits N", "--bits"},
          {"--loss_function", "--loss LOSS (default logistic, not VW's squared)", "--loss"},
          {"--quantile_tau", "--quantile-tau TAU", "--quantile-tau"},
          {"-l --learning_rate", "-l, --learning-rate RATE", "--learning-rate"},
          {"--power_t", "--power-t P (with --optimizer sgd)", "--power-t"},
          {"--initial_t", "--initial-t T (with --optimizer sgd)", "--initial-t"},
          {"--l1", "--l1 X", ""},
          {"--l2", "--l2 X", ""},
          {"--noconstant", "--no-bias", "--no-bias"},
          {"-q --quadratic", "--quadratic AB (grist's -q is --quiet)", ""},
          {"--ngram", "--ngrams N (text input: word n-grams)", "--ngrams"},
          {"--oaa", "--oaa K", ""},
          {"--passes", "--passes N", ""},
          {"-c --cache -k --kill_cache --cache_file",
           "not needed: with --passes above 1 the parsed examples are cached in -T by themselves, "
           "for this run only",
           ""},
          {"--holdout_off", "--holdout-every 0", "--holdout-every 0"},
          {"--holdout_period", "--holdout-every N", "--holdout-every"},
          {"--early_terminate", "--early-stop K", "--early-stop"},
          {"-f --final_regressor", "-f, --final-model FILE", "--final-model"},
          {"-i --initial_regressor", "-i, --initial-model FILE", "--initial-model"},
          {"--save_resume",
           "not needed: -f always keeps the optimiser state, and -i continues from it", ""},
          {"--readable_model --invert_hash",
           "--readable-model FILE (with feature names, as VW's --invert_hash)", "--readable-model"},
          {"-p --predictions", "grist-predict -i MODEL FILE (predictions on standard output)", ""},
          {"-t --testonly", "grist-predict -i MODEL FILE --metrics", ""},
          {"--adaptive --normalized --invariant",
           "the default (--optimizer adagrad, normalised; --no-normalize turns that off)", ""},
          {"--sgd", "--optimizer sgd --no-normalize (plain SGD)", "--optimizer sgd --no-normalize"},
          {"--ftrl", "--optimizer ftrl", "--optimizer ftrl"},
          {"--ftrl_alpha", "-l, --learning-rate RATE (with --optimizer ftrl)", "--learning-rate"},
          {"--ftrl_beta", "--ftrl-beta X", "--ftrl-beta"},
          {"--random_seed", "--seed N (of --shuffle)", "--seed"},
      }};
  return table;
}

}  // namespace grist::sgd
