#include "grist/json/json_field.hpp"

#include <simdjson.h>

#include <vector>

#include "grist/error.hpp"

namespace grist {

namespace od = simdjson::ondemand;

struct JsonField::Impl {
  od::parser parser;
  std::vector<std::string> keys;
  std::string copy;  // padded copy for the unpadded overload
};

namespace {

const char* type_name(od::json_type t) {
  switch (t) {
    case od::json_type::array: return "an array";
    case od::json_type::object: return "an object";
    case od::json_type::number: return "a number";
    case od::json_type::string: return "a string";
    case od::json_type::boolean: return "a boolean";
    case od::json_type::null: return "null";
  }
  return "not a string";
}

}  // namespace

constexpr size_t kMaxPathKeys = 256;

JsonField::JsonField(std::string_view path) : impl_(std::make_unique<Impl>()), path_(path) {
  size_t start = 0;
  for (;;) {
    size_t dot = path.find('.', start);
    std::string_view key = path.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (key.empty()) throw UsageError("bad JSON field path '" + path_ + "': empty key");
    impl_->keys.emplace_back(key);
    // extract() recurses once per key: bound the depth (and so the stack).
    if (impl_->keys.size() > kMaxPathKeys) {
      throw UsageError("bad JSON field path: more than " + std::to_string(kMaxPathKeys) +
                       " keys");
    }
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
}

JsonField::~JsonField() = default;

JsonField::Status JsonField::extract(std::string_view line, std::string_view& value) {
  impl_->copy.assign(line);
  impl_->copy.append(simdjson::SIMDJSON_PADDING, '\0');
  return extract(impl_->copy.data(), line.size(), impl_->copy.size(), value);
}

JsonField::Status JsonField::extract(const char* data, size_t len, size_t capacity,
                                     std::string_view& value) {
  const auto& keys = impl_->keys;
  auto invalid = [&](simdjson::error_code e) {
    error_ = std::string("invalid JSON: ") + simdjson::error_message(e);
    return Status::invalid;
  };
  auto missing = [&](size_t depth, const char* why) {
    std::string prefix;
    for (size_t i = 0; i <= depth; ++i) prefix += (i ? "." : "") + keys[i];
    error_ = "missing field '" + path_ + "'";
    if (why) error_ += std::string(" ('") + prefix + "' is " + why + ")";
    return Status::missing;
  };

  od::document doc;
  if (auto e = impl_->parser.iterate(simdjson::padded_string_view(data, len, capacity)).get(doc)) {
    return invalid(e);
  }
  od::object obj;
  if (auto e = doc.get_object().get(obj)) {
    if (e != simdjson::INCORRECT_TYPE) return invalid(e);
    od::json_type t;
    if (auto e2 = doc.type().get(t)) return invalid(e2);
    // type() looks at the first byte only: check that the scalar is whole
    // ("nonsense" starts like null).
    simdjson::error_code e3 = simdjson::SUCCESS;
    switch (t) {
      case od::json_type::string: e3 = doc.get_string().error(); break;
      case od::json_type::number: e3 = doc.get_double().error(); break;
      case od::json_type::boolean: e3 = doc.get_bool().error(); break;
      case od::json_type::null: {
        bool is_null = false;
        e3 = doc.is_null().get(is_null);
        if (!e3 && !is_null) e3 = simdjson::N_ATOM_ERROR;
        break;
      }
      default: break;
    }
    if (e3) return invalid(e3);
    error_ = std::string("line is ") + type_name(t) + ", not a JSON object";
    return Status::missing;
  }

  // Reads every field of `o` (so that a truncated object is noticed), going
  // down the path when its key comes by. Recursion depth is the path length.
  auto walk = [&](auto&& self, od::object& o, size_t depth) -> Status {
    bool found = false;
    for (auto field_result : o) {
      od::field field;
      if (auto e = std::move(field_result).get(field)) return invalid(e);
      std::string_view key;
      if (auto e = field.unescaped_key().get(key)) return invalid(e);
      if (found || key != keys[depth]) continue;  // the iterator skips the value
      found = true;
      od::value v = field.value();
      simdjson::error_code e;
      if (depth + 1 == keys.size()) {
        e = v.get_string().get(value);
      } else {
        od::object child;
        e = v.get_object().get(child);
        if (!e) {
          if (Status s = self(self, child, depth + 1); s != Status::ok) return s;
        }
      }
      if (e == simdjson::INCORRECT_TYPE) {
        od::json_type t;
        if (auto e2 = v.type().get(t)) return invalid(e2);
        if (depth + 1 < keys.size()) return missing(depth, type_name(t));
        error_ = "field '" + path_ + "' is " + type_name(t) + ", not a string";
        return Status::not_string;
      }
      if (e) return invalid(e);
    }
    return found ? Status::ok : missing(depth, nullptr);
  };
  if (Status s = walk(walk, obj, 0); s != Status::ok) return s;
  // Only whitespace may follow the root object.
  if (doc.current_location().error() == simdjson::SUCCESS) {
    error_ = "invalid JSON: trailing content after the object";
    return Status::invalid;
  }
  return Status::ok;
}

}  // namespace grist
