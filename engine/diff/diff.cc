// DiffObject: classifies one object as create / update / delete / unchanged by predicting the
// result of applying desired (ApplyMerge) and comparing it with live, both normalized. Pure.
#include "engine/diff/diff.h"

#include <cstdint>

#include <nlohmann/json.hpp>

#include "engine/base/secret_key.h"

namespace converge {

namespace {
constexpr const char* kRedactedPrefix = "(sensitive, hmac:";
constexpr const char* kLegacyRedactedPrefix = "(sensitive, sha256:";  // unsalted: converge before issue 6

bool IsPlaceholder(const Json& value) {
  if (!value.is_string()) return false;
  const std::string& s = value.get_ref<const std::string&>();
  return s.rfind(kRedactedPrefix, 0) == 0 || s.rfind(kLegacyRedactedPrefix, 0) == 0;
}
}  // namespace

bool IsSecret(const Json& object) {
  if (!object.is_object()) return false;
  auto kind = object.find("kind");
  auto api = object.find("apiVersion");
  return kind != object.end() && *kind == "Secret" && api != object.end() && *api == "v1";
}

namespace {

// With `keep_redacted`, values already in the redacted form stay as they are (idempotent: the
// inventory's last-applied Secrets are stored redacted). Without, every value is hashed, so a live
// Secret holding a redacted placeholder never compares equal to the real value it stands for.
std::string Base64(const std::string& in) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t n = (uint32_t(uint8_t(in[i])) << 16) | (uint32_t(uint8_t(in[i + 1])) << 8) | uint8_t(in[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += kAlphabet[(n >> shift) & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t n = uint32_t(uint8_t(in[i])) << 16;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t n = (uint32_t(uint8_t(in[i])) << 16) | (uint32_t(uint8_t(in[i + 1])) << 8);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

Json Redact(const Json& object, bool keep_redacted, const SecretKey& secrets) {
  if (!IsSecret(object)) return object;
  Json out = WithStringDataAsData(object);
  for (const char* field : {"data", "stringData"}) {
    auto it = out.find(field);
    if (it == out.end() || !it->is_object()) continue;
    for (auto& [key, value] : it->items()) {
      if (keep_redacted && IsPlaceholder(value)) continue;
      std::string text = value.is_string() ? value.get<std::string>() : value.dump();
      value = std::string(kRedactedPrefix) + secrets.Tag(text) + ")";
    }
  }
  return out;
}

}  // namespace

Json WithStringDataAsData(const Json& object) {
  if (!IsSecret(object)) return object;
  auto string_data = object.find("stringData");
  if (string_data == object.end()) return object;
  Json out = object;
  if (string_data->is_object()) {
    Json& data = out["data"];
    if (!data.is_object()) data = Json::object();
    for (const auto& [key, value] : string_data->items()) {
      if (IsPlaceholder(value) || !value.is_string()) {
        data[key] = value;
      } else {
        data[key] = Base64(value.get<std::string>());
      }
    }
  }
  out.erase("stringData");
  return out;
}

Json RedactSecret(const Json& object, const SecretKey& secrets) {
  return Redact(object, /*keep_redacted=*/true, secrets);
}

const char* ChangeTypeName(ChangeType t) {
  switch (t) {
    case ChangeType::kCreate: return "create";
    case ChangeType::kUpdate: return "update";
    case ChangeType::kDelete: return "delete";
    case ChangeType::kUnchanged: return "unchanged";
  }
  return "unknown";
}

namespace {
constexpr const char* kLiveLabel = "live";
constexpr const char* kDesiredLabel = "desired";

bool Present(const Json* j) { return j != nullptr && !j->is_null(); }
}  // namespace

namespace {

ObjectDiff DiffPlain(const Json* desired, const Json* live, const Json* last_applied) {
  ObjectDiff out;
  const bool has_desired = Present(desired), has_live = Present(live);
  if (!has_desired && !has_live) return out;
  if (!has_live) {
    out.type = ChangeType::kCreate;
    out.unified = UnifiedDiff("", ToYaml(Normalize(ApplyMerge(nullptr, *desired, nullptr))),
                              kLiveLabel, kDesiredLabel);
    return out;
  }
  const Json live_norm = Normalize(*live);
  if (!has_desired) {
    out.type = ChangeType::kDelete;
    out.unified = UnifiedDiff(ToYaml(live_norm), "", kLiveLabel, kDesiredLabel);
    return out;
  }
  const Json* last = Present(last_applied) ? last_applied : nullptr;
  const Json predicted = Normalize(ApplyMerge(live, *desired, last));
  if (predicted == live_norm) return out;
  out.type = ChangeType::kUpdate;
  out.unified = UnifiedDiff(ToYaml(live_norm), ToYaml(predicted), kLiveLabel, kDesiredLabel);
  return out;
}

}  // namespace

ObjectDiff DiffObject(const Json* desired, const Json* live, const Json* last_applied, const SecretKey& secrets) {
  // Secrets are compared by keyed content hashes, so their values never reach a diff.
  if ((desired && IsSecret(*desired)) || (live && IsSecret(*live))) {
    Json d = desired ? Redact(*desired, true, secrets) : Json();
    Json l = live ? Redact(*live, false, secrets) : Json();
    Json a = last_applied ? Redact(*last_applied, true, secrets) : Json();
    return DiffPlain(desired ? &d : nullptr, live ? &l : nullptr, last_applied ? &a : nullptr);
  }
  return DiffPlain(desired, live, last_applied);
}

}  // namespace converge
