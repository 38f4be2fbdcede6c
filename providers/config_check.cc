#include "providers/config_check.h"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

namespace converge {
namespace {

const char* Expected(ConfigType type) {
  switch (type) {
    case ConfigType::kAny:
      return "a value";
    case ConfigType::kString:
      return "a string";
    case ConfigType::kBool:
      return "a boolean (true or false)";
    case ConfigType::kNonNegativeNumber:
      return "a number";
    case ConfigType::kObject:
      return "a map";
  }
  return "a value";
}

std::vector<std::string> Append(const std::vector<std::string>& path, const std::string& key) {
  std::vector<std::string> out = path;
  out.push_back(key);
  return out;
}

size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string Lower(std::string s) {
  for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

std::string Quote(const std::string& s) { return Json(s).dump(-1, ' ', false, Json::error_handler_t::replace); }

void CheckValue(const Json& value, const std::vector<std::string>& path, const ConfigField& field, bool redact,
                std::vector<ConfigDiagnostic>* out);

void CheckMembers(const Json& object, const std::vector<std::string>& path, const std::vector<ConfigField>& fields,
                  bool redact, std::vector<ConfigDiagnostic>* out) {
  std::vector<std::string> names;
  names.reserve(fields.size());
  for (const ConfigField& f : fields) names.push_back(f.name);
  for (const auto& [key, value] : object.items()) {
    auto f = std::find_if(fields.begin(), fields.end(), [&](const ConfigField& x) { return x.name == key; });
    std::vector<std::string> at = Append(path, key);
    if (f != fields.end()) {
      if (!value.is_null()) CheckValue(value, at, *f, redact || f->secret, out);
      continue;
    }
    std::string msg = "unknown field " + ConfigPathText(at);
    if (std::string near = ClosestConfigName(key, names); !near.empty()) {
      msg += " (did you mean " + ConfigPathText(Append(path, near)) + "?)";
    } else {
      std::string known;
      for (const std::string& n : names) known += (known.empty() ? "" : ", ") + n;
      msg += "; known fields: " + known;
    }
    out->push_back(ConfigDiagnostic{std::move(at), std::move(msg)});
  }
}

void CheckValue(const Json& value, const std::vector<std::string>& path, const ConfigField& field, bool redact,
                std::vector<ConfigDiagnostic>* out) {
  auto type_error = [&] {
    out->push_back(ConfigDiagnostic{path, ConfigPathText(path) + " must be " + Expected(field.type) + ", got " +
                                              DescribeConfigValue(value, redact)});
  };
  switch (field.type) {
    case ConfigType::kAny:
      return;
    case ConfigType::kString:
      if (!value.is_string()) type_error();
      return;
    case ConfigType::kBool:
      if (!value.is_boolean()) type_error();
      return;
    case ConfigType::kNonNegativeNumber:
      if (!value.is_number()) return type_error();
      if (value.get<double>() < 0) {
        out->push_back(
            ConfigDiagnostic{path, ConfigPathText(path) + " must be >= 0, got " + DescribeConfigValue(value, redact)});
      }
      return;
    case ConfigType::kObject:
      if (!value.is_object()) return type_error();
      CheckMembers(value, path, field.fields, redact, out);
      return;
  }
}

}  // namespace

void CheckConfigObject(const Json& object, const std::vector<std::string>& path, const std::vector<ConfigField>& fields,
                       std::vector<ConfigDiagnostic>* out) {
  ConfigField root{path.empty() ? "" : path.back(), ConfigType::kObject, fields, false};
  CheckValue(object, path, root, false, out);
}

std::string ConfigPathText(const std::vector<std::string>& path) {
  std::string out;
  for (const std::string& seg : path) {
    bool index = !seg.empty() && std::all_of(seg.begin(), seg.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (index) {
      out += "[" + seg + "]";
    } else if (seg.empty() || seg.find_first_of("./[]\" ") != std::string::npos) {
      out += "[" + Quote(seg) + "]";
    } else {
      if (!out.empty()) out += ".";
      out += seg;
    }
  }
  return out;
}

std::string DescribeConfigValue(const Json& value, bool redact) {
  switch (value.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::boolean:
      return redact ? "a boolean" : std::string("boolean ") + (value.get<bool>() ? "true" : "false");
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      return redact ? "an integer" : "integer " + value.dump();
    case Json::value_t::number_float:
      return redact ? "a number" : "number " + value.dump();
    case Json::value_t::string: {
      if (redact) return "a string";
      const auto& s = value.get_ref<const std::string&>();
      return "string " + Quote(s.size() > 60 ? s.substr(0, 57) + "..." : s);
    }
    case Json::value_t::array:
      return "a list";
    case Json::value_t::object:
      return "a map";
    default:
      return "a value";
  }
}

std::string ClosestConfigName(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = 3;  // suggest only within two edits
  std::string lower = Lower(word);
  for (const std::string& c : candidates) {
    if (Lower(c) == lower) return c;
    if (word.size() >= 4 && c.size() > word.size() && c.compare(0, word.size(), word) == 0) return c;  // a prefix
    size_t d = EditDistance(word, c);
    if (d < best_distance && d < std::max<size_t>(word.size(), 2)) {
      best = c;
      best_distance = d;
    }
  }
  return best;
}

}  // namespace converge
