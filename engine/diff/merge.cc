// ApplyMerge and Normalize: the server-side-apply prediction used by DiffObject and by the sim
// provider's apply. Pure.
//
// Merge rules, applied recursively with the matching sub-tree of last_applied at every level:
//   - map onto map: live keys are kept, keys that desired has are set/merged, keys that
//     last_applied has and desired no longer has are removed (converge owned them);
//   - a null value in desired removes the key (kubectl semantics for "field: null");
//   - list onto list where every item of both is a map carrying the same merge key (name,
//     containerPort, port, mountPath, devicePath; the first that all items have): merged by that
//     key (desired's order first, then live-only items, except those converge applied before);
//   - anything else (scalars, atomic lists, type changes) is replaced by desired.
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "engine/diff/diff.h"

namespace converge {
namespace {

const Json* Find(const Json* object, const std::string& key) {
  if (object == nullptr || !object->is_object()) return nullptr;
  auto it = object->find(key);
  return it == object->end() ? nullptr : &*it;
}

// Keys that identify the items of a list of maps, tried in order, as Kubernetes' strategic merge
// does for its common lists: containers, env, volumes (name); container ports (containerPort);
// service ports (port); volume mounts (mountPath); devices (devicePath).
constexpr const char* kMergeKeys[] = {"name", "containerPort", "port", "mountPath", "devicePath"};

// The item's value for `key` as text, or nullopt when the item is not a map with a scalar there.
std::optional<std::string> ItemKey(const Json& item, const char* key) {
  if (!item.is_object()) return std::nullopt;
  auto it = item.find(key);
  if (it == item.end() || !(it->is_string() || it->is_number())) return std::nullopt;
  return it->is_string() ? it->get<std::string>() : it->dump();
}

bool AllHaveKey(const Json& list, const char* key) {
  if (!list.is_array()) return false;
  for (const auto& item : list) {
    if (!ItemKey(item, key)) return false;
  }
  return true;
}

// The merge key shared by every item of both lists, or nullptr when the lists are atomic.
const char* MergeKeyOf(const Json& live, const Json& desired) {
  for (const char* key : kMergeKeys) {
    if (AllHaveKey(live, key) && AllHaveKey(desired, key)) return key;
  }
  return nullptr;
}

// key -> item, first occurrence wins.
std::unordered_map<std::string, const Json*> IndexByKey(const Json* list, const char* key) {
  std::unordered_map<std::string, const Json*> index;
  if (list == nullptr || !list->is_array()) return index;
  for (const auto& item : *list) {
    if (auto k = ItemKey(item, key)) index.emplace(*k, &item);
  }
  return index;
}

Json MergeValue(const Json* live, const Json& desired, const Json* last);

Json MergeMap(const Json* live, const Json& desired, const Json* last) {
  Json result = (live != nullptr && live->is_object()) ? *live : Json::object();
  if (last != nullptr && last->is_object()) {
    for (const auto& [key, value] : last->items()) {
      (void)value;
      if (!desired.contains(key)) result.erase(key);
    }
  }
  for (const auto& [key, value] : desired.items()) {
    if (value.is_null()) {
      result.erase(key);
      continue;
    }
    const Json* live_value = Find(&result, key);
    // Copy: `result[key]` below may invalidate `live_value`'s storage.
    Json merged = MergeValue(live_value, value, Find(last, key));
    result[key] = std::move(merged);
  }
  return result;
}

Json MergeKeyedList(const Json& live, const Json& desired, const Json* last, const char* key) {
  auto live_index = IndexByKey(&live, key);
  auto last_index = IndexByKey(last, key);
  Json result = Json::array();
  std::unordered_set<std::string> seen;
  for (const auto& item : desired) {
    std::string k = *ItemKey(item, key);
    if (!seen.insert(k).second) continue;  // duplicate key in desired: first wins
    auto lv = live_index.find(k);
    auto la = last_index.find(k);
    result.push_back(MergeValue(lv == live_index.end() ? nullptr : lv->second, item,
                                la == last_index.end() ? nullptr : la->second));
  }
  for (const auto& item : live) {
    std::string k = *ItemKey(item, key);
    if (seen.count(k) != 0) continue;
    if (last_index.count(k) != 0) continue;  // converge applied it before; Git dropped it
    seen.insert(k);
    result.push_back(item);
  }
  return result;
}

Json MergeValue(const Json* live, const Json& desired, const Json* last) {
  if (desired.is_object()) return MergeMap(live, desired, last);
  if (desired.is_array()) {
    if (live != nullptr && live->is_array() && !(live->empty() && desired.empty())) {
      if (const char* key = MergeKeyOf(*live, desired)) return MergeKeyedList(*live, desired, last, key);
    }
    Json result = Json::array();
    for (const auto& item : desired) result.push_back(MergeValue(nullptr, item, nullptr));
    return result;
  }
  return desired;
}

}  // namespace

Json ApplyMerge(const Json* live, const Json& desired, const Json* last_applied) {
  return MergeValue(live, desired, last_applied);
}

Json Normalize(const Json& object) {
  static const char* const kServerMetadata[] = {
      "resourceVersion", "uid",           "generation",        "creationTimestamp",
      "managedFields",   "selfLink",      "deletionTimestamp", "deletionGracePeriodSeconds",
  };
  if (!object.is_object()) return object;
  Json out = object;
  out.erase("status");
  auto md = out.find("metadata");
  if (md == out.end() || !md->is_object()) return out;
  for (const char* field : kServerMetadata) md->erase(field);
  if (auto ann = md->find("annotations"); ann != md->end()) {
    if (ann->is_object()) ann->erase("kubectl.kubernetes.io/last-applied-configuration");
    if (ann->is_null() || (ann->is_object() && ann->empty())) md->erase("annotations");
  }
  if (auto labels = md->find("labels"); labels != md->end()) {
    if (labels->is_null() || (labels->is_object() && labels->empty())) md->erase("labels");
  }
  return out;
}

}  // namespace converge
