#include "engine/spec/yaml_json.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cstdint>
#include <limits>
#include <algorithm>
#include <map>
#include <set>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>

namespace converge::spec_internal {
namespace {

// Aliases can make a small text expand exponentially ("billion laughs"); refuse a file whose
// aliases copy more than this many values in total. Without aliases the size is bounded by the text.
constexpr size_t kMaxAliasedNodesPerFile = 1'000'000;

constexpr std::string_view kTagPrefix = "tag:yaml.org,2002:";

// Deeper nesting than any Kubernetes object needs is refused before it can exhaust a stack.
constexpr size_t kMaxNesting = 256;

// Thrown from an event handler to stop the parse of a file nested too deeply.
struct TooDeep {
  YAML::Mark mark;
};

Position ToPosition(const YAML::Mark& mark) {
  if (mark.line < 0 || mark.column < 0) return {};
  return {mark.line + 1, mark.column + 1};
}

bool AllOf(std::string_view s, bool (*pred)(char)) {
  if (s.empty()) return false;
  for (char c : s)
    if (!pred(c)) return false;
  return true;
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsOctDigit(char c) { return c >= '0' && c <= '7'; }
bool IsHexDigit(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// Integers that fit int64 are stored as nlohmann's JSON parser would store them (unsigned when
// non-negative), so that a document read back from the parse cache is identical to a fresh one.
Json IntegerJson(uint64_t magnitude, bool negative) {
  if (!negative) return Json(magnitude);
  return Json(magnitude == 0 ? int64_t{0} : -static_cast<int64_t>(magnitude - 1) - 1);
}

// Parses digits in `base`; nullopt on overflow past int64.
std::optional<uint64_t> ParseMagnitude(std::string_view digits, int base, bool negative) {
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v, base);
  if (ec != std::errc() || ptr != digits.data() + digits.size()) return std::nullopt;
  uint64_t limit = static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) + (negative ? 1 : 0);
  if (v > limit) return std::nullopt;
  return v;
}

// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
bool IsCoreFloat(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
  size_t int_digits = 0, frac_digits = 0;
  while (i < s.size() && IsDigit(s[i])) ++i, ++int_digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && IsDigit(s[i])) ++i, ++frac_digits;
  }
  if (int_digits == 0 && frac_digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    size_t exp_digits = 0;
    while (i < s.size() && IsDigit(s[i])) ++i, ++exp_digits;
    if (exp_digits == 0) return false;
  }
  return i == s.size();
}

// Types a plain (unquoted, untagged) scalar by the YAML 1.2 core schema, plus the YAML 1.1 octal
// form 0644 that Kubernetes manifests rely on (defaultMode: 0644). yes/no/on/off stay strings;
// .inf and .nan stay strings because JSON cannot hold them.
Json ResolvePlain(const std::string& s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  std::string_view v = s;
  if (v.size() > 2 && v[0] == '0' && v[1] == 'x' && AllOf(v.substr(2), IsHexDigit)) {
    if (auto m = ParseMagnitude(v.substr(2), 16, false)) return IntegerJson(*m, false);
    return s;
  }
  if (v.size() > 2 && v[0] == '0' && v[1] == 'o' && AllOf(v.substr(2), IsOctDigit)) {
    if (auto m = ParseMagnitude(v.substr(2), 8, false)) return IntegerJson(*m, false);
    return s;
  }
  bool negative = !v.empty() && v[0] == '-';
  std::string_view unsigned_part = (!v.empty() && (v[0] == '-' || v[0] == '+')) ? v.substr(1) : v;
  if (AllOf(unsigned_part, IsDigit)) {
    bool octal = unsigned_part.size() > 1 && unsigned_part[0] == '0' && AllOf(unsigned_part, IsOctDigit);
    if (auto m = ParseMagnitude(unsigned_part, octal ? 8 : 10, negative)) return IntegerJson(*m, negative);
    // Too large for int64: fall through to a double, as JSON decoders do.
  }
  if (IsCoreFloat(v)) {
    std::string_view f = (v[0] == '+') ? v.substr(1) : v;
    double d = 0;
    auto [ptr, ec] = std::from_chars(f.data(), f.data() + f.size(), d);
    if (ec == std::errc() && ptr == f.data() + f.size()) return d;
    return s;  // out of range (1e999): keep the text
  }
  return s;
}

Json ResolveTagged(const std::string& tag, const std::string& value) {
  if (tag == "?" || tag.empty()) return ResolvePlain(value);
  if (tag == "!") return value;  // quoted
  std::string_view t = tag;
  if (t.substr(0, kTagPrefix.size()) == kTagPrefix) {
    std::string_view name = t.substr(kTagPrefix.size());
    if (name == "int" || name == "float" || name == "bool" || name == "null") return ResolvePlain(value);
  }
  return value;  // !!str and any other tag: the text as it is
}

// Builds JSON documents straight from yaml-cpp parser events (no YAML node tree).
class JsonBuilder : public YAML::EventHandler {
 public:
  JsonBuilder(const std::string& file, std::vector<Diagnostic>* errors) : file_(file), errors_(errors) {}

  // The finished document; `has_root` is false for an empty document.
  struct Document {
    bool has_root = false;
    Json root;
    YAML::Mark root_mark;
    std::map<std::string, Position> recorded;
    std::map<std::string, Position> cloud_fields;  // see YamlDocument
    bool fields_recorded = false;
    // Duplicate keys: the map's path and the key, resolved to a message once a locator exists.
    std::vector<std::pair<FieldPath, YAML::Mark>> duplicates;
  };
  Document TakeDocument() { return std::move(doc_); }
  bool too_large() const { return too_large_; }

  void OnDocumentStart(const YAML::Mark&) override {
    doc_ = Document();
    stack_.clear();
    anchors_.clear();
  }
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    if (too_large_) return;
    if (InKeyPosition()) return SetKey("null", mark);
    Json v;
    if (anchor) anchors_[anchor] = {v, 1};
    AddValue(std::move(v), mark, /*is_null=*/true);
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    if (too_large_) return;
    auto it = anchors_.find(anchor);
    if (it == anchors_.end()) return AddValue(Json(), mark, true);  // yaml-cpp rejects unknown aliases first
    nodes_ += it->second.second;
    aliased_nodes_ += it->second.second;
    if (aliased_nodes_ > kMaxAliasedNodesPerFile) {
      too_large_ = true;  // stop before copying: the rest of the file is only scanned
      return;
    }
    if (InKeyPosition()) {
      if (it->second.first.is_string()) return SetKey(it->second.first.get<std::string>(), mark);
      return SetInvalidKey(mark);
    }
    AddValue(Json(it->second.first), mark, false);
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    if (too_large_) return;
    ++nodes_;
    if (InKeyPosition()) {
      if (anchor) anchors_[anchor] = {Json(value), 1};
      // A plain << is YAML's merge key, which Kubernetes' YAML library honours; quoted, a key.
      return SetKey(value, mark, /*merge=*/value == "<<" && (tag == "?" || tag.empty()));
    }
    Json v = ResolveTagged(tag, value);
    if (anchor) anchors_[anchor] = {v, 1};
    AddValue(std::move(v), mark, false);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    if (!too_large_) Push(Json::array(), mark, anchor);
  }
  void OnSequenceEnd() override {
    if (!too_large_) Pop();
  }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    if (!too_large_) Push(Json::object(), mark, anchor);
  }
  void OnMapEnd() override {
    if (!too_large_) Pop();
  }

 private:
  struct Frame {
    Json value;  // an object or an array being filled
    YAML::Mark mark;
    YAML::anchor_t anchor = 0;
    size_t nodes_at_start = 0;
    bool is_key = false;  // a list or map used as a map key (refused when it ends)
    // Maps only: the key whose value comes next.
    std::string key;
    YAML::Mark key_mark;
    bool have_key = false;
    bool drop_value = false;  // the key was refused: its value is parsed and dropped
    bool merge = false;       // the key is <<: its value's keys are merged into this map
    std::set<std::string> merged;  // keys that came from merges (explicit keys override them)
  };

  bool InKeyPosition() const { return !stack_.empty() && stack_.back().value.is_object() && !stack_.back().have_key; }

  void SetKey(std::string key, const YAML::Mark& mark, bool merge = false) {
    RecordCloudField(key, mark);
    Frame& f = stack_.back();
    f.have_key = true;
    f.key_mark = mark;
    f.merge = merge;
    if (merge) {
      f.drop_value = false;
      f.key = std::move(key);
      return;
    }
    if (f.merged.erase(key) > 0) f.value.erase(key);  // an explicit key overrides a merged one
    f.drop_value = f.value.contains(key);
    if (f.drop_value) doc_.duplicates.emplace_back(PathTo(stack_.size() - 1, key), mark);
    f.key = std::move(key);
  }

  // YAML's merge key: the keys of a map (or of each map of a list, the first one winning) that
  // this map does not have yet join it.
  void Merge(Frame& top, const Json& value, const YAML::Mark& mark) {
    auto merge_one = [&](const Json& m) {
      for (const auto& [k, v] : m.items()) {
        if (top.value.contains(k)) continue;
        top.value[k] = v;
        top.merged.insert(k);
      }
    };
    if (value.is_object()) {
      merge_one(value);
    } else if (value.is_array() && std::all_of(value.begin(), value.end(), [](const Json& m) { return m.is_object(); })) {
      for (const Json& m : value) merge_one(m);
    } else {
      Error(mark, "the merge key << takes a map or a list of maps (e.g. <<: *defaults), not " +
                      std::string(value.is_array() ? "a list of other values" : "a scalar"));
    }
  }

  void SetInvalidKey(const YAML::Mark& mark) {
    Error(mark, "map key must be a scalar, not a list or map");
    Frame& f = stack_.back();
    f.have_key = true;
    f.drop_value = true;
  }

  // The path of the map at stack_[depth] followed by `key`.
  FieldPath PathTo(size_t depth, const std::string& key) const {
    FieldPath path;
    for (size_t i = 0; i < depth; ++i) {
      const Frame& f = stack_[i];
      if (f.value.is_object())
        path.push_back(PathSegment{f.key, -1});
      else
        path.push_back(PathSegment{"", static_cast<int>(f.value.size())});
    }
    path.push_back(PathSegment{key, -1});
    return path;
  }

  void Push(Json value, const YAML::Mark& mark, YAML::anchor_t anchor) {
    if (stack_.size() >= kMaxNesting) throw TooDeep{mark};
    ++nodes_;
    Frame f;
    f.is_key = InKeyPosition();
    if (!f.is_key) Record(mark, false);
    if (!f.is_key) RecordCloudItem(mark, false);
    f.value = std::move(value);
    f.mark = mark;
    f.anchor = anchor;
    f.nodes_at_start = nodes_;
    stack_.push_back(std::move(f));
  }

  void Pop() {
    Frame f = std::move(stack_.back());
    stack_.pop_back();
    if (f.anchor) anchors_[f.anchor] = {f.value, nodes_ - f.nodes_at_start + 1};
    if (f.is_key) return SetInvalidKey(f.mark);
    Attach(std::move(f.value), f.mark);
  }

  void AddValue(Json value, const YAML::Mark& mark, bool is_null) {
    Record(mark, is_null);
    RecordCloudItem(mark, is_null);
    Attach(std::move(value), mark);
  }

  // Remembers where kRecordedPaths values start (paths of one or two map keys); null values are
  // located at their key.
  void Record(const YAML::Mark& mark, bool is_null) {
    if (stack_.empty() || stack_.size() > 2) return;
    for (const Frame& f : stack_) {
      if (!f.value.is_object() || !f.have_key) return;
    }
    std::string path = stack_.size() == 1 ? stack_[0].key : stack_[0].key + "." + stack_[1].key;
    for (const char* p : kRecordedPaths)
      if (path == p) doc_.recorded[path] = ToPosition(is_null ? stack_.back().key_mark : mark);
  }

  // Inside a Cloud's spec: the JSON pointer of the value about to be attached to the top frame
  // (`key` for a map, the next index for a list).
  std::string CloudPointer(const std::string* key) const {
    std::vector<std::string> segments;
    for (size_t i = 0; i + 1 < stack_.size(); ++i) {
      const Frame& f = stack_[i];
      segments.push_back(f.value.is_object() ? f.key : std::to_string(f.value.size()));
    }
    const Frame& top = stack_.back();
    segments.push_back(key ? *key : std::to_string(top.value.size()));
    return JsonPointerOf(segments);
  }

  bool InCloudSpec() const { return doc_.fields_recorded && stack_.size() >= 2 && stack_[0].key == "spec"; }

  // Positions of a Cloud's fields under spec, as YamlLocator::FieldPositions: keys of maps.
  void RecordCloudField(const std::string& key, const YAML::Mark& mark) {
    if (stack_.size() == 1 && key == "spec" && stack_[0].value.is_object()) {
      auto kind = stack_[0].value.find("kind");
      if (kind == stack_[0].value.end() || *kind != "Cloud") return;
      doc_.fields_recorded = true;
      doc_.cloud_fields.emplace("/spec", ToPosition(mark));
      return;
    }
    if (!InCloudSpec() || !stack_.back().value.is_object()) return;
    if (doc_.cloud_fields.size() >= YamlLocator::kMaxFieldPositions) return;
    Position at = ToPosition(mark);
    if (at.line > 0) doc_.cloud_fields.emplace(CloudPointer(&key), at);
  }

  // ... and the items of lists (not null ones, whose mark is the next token).
  void RecordCloudItem(const YAML::Mark& mark, bool is_null) {
    if (is_null || !InCloudSpec() || !stack_.back().value.is_array()) return;
    if (doc_.cloud_fields.size() >= YamlLocator::kMaxFieldPositions) return;
    Position at = ToPosition(mark);
    if (at.line > 0) doc_.cloud_fields.emplace(CloudPointer(nullptr), at);
  }

  void Attach(Json value, const YAML::Mark& mark) {
    if (stack_.empty()) {
      doc_.has_root = !value.is_null();
      doc_.root = std::move(value);
      doc_.root_mark = mark;
      return;
    }
    Frame& top = stack_.back();
    if (top.value.is_array()) {
      top.value.push_back(std::move(value));
      return;
    }
    if (top.merge) {
      Merge(top, value, mark);
      top.key.clear();
      top.have_key = false;
      top.merge = false;
      return;
    }
    if (!top.drop_value) top.value.get_ref<Json::object_t&>().emplace(std::move(top.key), std::move(value));
    top.key.clear();
    top.have_key = false;
    top.drop_value = false;
  }

  void Error(const YAML::Mark& mark, std::string msg) {
    Position p = ToPosition(mark);
    errors_->push_back(Diagnostic{file_, p.line, p.column, std::move(msg)});
  }

  const std::string& file_;
  std::vector<Diagnostic>* errors_;
  Document doc_;
  std::vector<Frame> stack_;
  std::unordered_map<YAML::anchor_t, std::pair<Json, size_t>> anchors_;  // value, node count
  size_t nodes_ = 0;          // values converted so far (sizes anchored subtrees)
  size_t aliased_nodes_ = 0;  // values copied by aliases
  bool too_large_ = false;
};

const char* KindName(const Json& v) {
  if (v.is_array()) return "a list";
  if (v.is_object()) return "a map";
  return "a scalar";
}

}  // namespace

// The YAML tree of a whole file, built on first use.
struct FileTree {
  std::string text;
  bool built = false;
  std::vector<YAML::Node> docs;  // every document, empty ones included

  const YAML::Node* Document(size_t index) {
    if (!built) {
      built = true;
      try {
        docs = YAML::LoadAll(text);
      } catch (const YAML::Exception&) {
        // The event parser accepted this text, so this does not happen; positions are then unknown.
      }
    }
    return index < docs.size() ? &docs[index] : nullptr;
  }
};

struct YamlLocator::Impl {
  std::shared_ptr<FileTree> tree;
  size_t doc_index = 0;
};

class YamlLocatorAccess {
 public:
  static void Set(YamlLocator* locator, std::shared_ptr<FileTree> tree, size_t doc_index) {
    auto impl = std::make_shared<YamlLocator::Impl>();
    impl->tree = std::move(tree);
    impl->doc_index = doc_index;
    locator->impl_ = std::move(impl);
  }
};

YamlLocator::YamlLocator() = default;
YamlLocator::~YamlLocator() = default;
YamlLocator::YamlLocator(const YamlLocator&) = default;
YamlLocator& YamlLocator::operator=(const YamlLocator&) = default;

Position YamlLocator::Find(const FieldPath& path, bool at_key) const {
  if (!impl_) return {};
  const YAML::Node* root = impl_->tree->Document(impl_->doc_index);
  if (!root) return {};
  YAML::Node node = *root;
  Position pos = ToPosition(node.Mark());
  for (size_t i = 0; i < path.size(); ++i) {
    const PathSegment& seg = path[i];
    bool last = i + 1 == path.size();
    bool found = false;
    if (seg.index < 0 && node.IsMap()) {
      for (const auto& kv : node) {
        if (!kv.first.IsScalar() || kv.first.Scalar() != seg.key) continue;
        Position key_pos = ToPosition(kv.first.Mark());
        if (last && at_key) return key_pos;
        // yaml-cpp marks an empty value at the next token; the key is where the user looks.
        pos = (kv.second.IsNull() || ToPosition(kv.second.Mark()).line == 0) ? key_pos : ToPosition(kv.second.Mark());
        node.reset(kv.second);  // rebind; operator= would overwrite the tree
        found = true;
        break;
      }
    } else if (seg.index >= 0 && node.IsSequence() && static_cast<size_t>(seg.index) < node.size()) {
      size_t n = 0;
      for (const auto& item : node) {
        if (n++ != static_cast<size_t>(seg.index)) continue;
        Position p = ToPosition(item.Mark());
        if (p.line > 0 && !item.IsNull()) pos = p;
        node.reset(item);
        found = true;
        break;
      }
    }
    if (!found) return pos;
  }
  return pos;
}

namespace {

// Records the positions under `node`, whose JSON pointer is `pointer`, depth first.
void CollectPositions(const YAML::Node& node, const std::string& pointer, int depth,
                      std::map<std::string, Position>* out) {
  constexpr int kMaxDepth = 64;
  if (depth > kMaxDepth) return;
  auto add = [&](std::string child, Position at, const YAML::Node& value) {
    if (out->size() >= YamlLocator::kMaxFieldPositions) return;
    if (at.line > 0) out->emplace(child, at);
    CollectPositions(value, child, depth + 1, out);
  };
  if (node.IsMap()) {
    for (const auto& kv : node) {
      if (!kv.first.IsScalar()) continue;
      add(pointer + JsonPointerOf({kv.first.Scalar()}), ToPosition(kv.first.Mark()), kv.second);
    }
  } else if (node.IsSequence()) {
    size_t i = 0;
    for (const auto& item : node) {
      Position p = item.IsNull() ? Position{} : ToPosition(item.Mark());
      add(pointer + "/" + std::to_string(i++), p, item);
    }
  }
}

}  // namespace

std::map<std::string, Position> YamlLocator::FieldPositions(const FieldPath& path) const {
  std::map<std::string, Position> out;
  if (!impl_) return out;
  const YAML::Node* root = impl_->tree->Document(impl_->doc_index);
  if (!root) return out;
  YAML::Node node = *root;
  std::vector<std::string> segments;
  Position at = ToPosition(node.Mark());
  for (const PathSegment& seg : path) {
    bool found = false;
    if (seg.index < 0 && node.IsMap()) {
      for (const auto& kv : node) {
        if (!kv.first.IsScalar() || kv.first.Scalar() != seg.key) continue;
        at = ToPosition(kv.first.Mark());
        node.reset(kv.second);  // rebind; operator= would overwrite the tree
        found = true;
        break;
      }
      segments.push_back(seg.key);
    } else if (seg.index >= 0 && node.IsSequence() && static_cast<size_t>(seg.index) < node.size()) {
      YAML::Node item = node[static_cast<size_t>(seg.index)];
      at = ToPosition(item.Mark());
      node.reset(item);
      found = true;
      segments.push_back(std::to_string(seg.index));
    }
    if (!found) return out;
  }
  std::string pointer = JsonPointerOf(segments);
  if (at.line > 0) out.emplace(pointer, at);
  CollectPositions(node, pointer, 0, &out);
  return out;
}

std::string Quote(const std::string& s) { return Json(s).dump(-1, ' ', false, Json::error_handler_t::replace); }

std::string PathToString(const FieldPath& path) {
  std::string out;
  for (const auto& seg : path) {
    if (seg.index >= 0) {
      out += "[" + std::to_string(seg.index) + "]";
    } else {
      bool plain = !seg.key.empty() && seg.key.find_first_of("./[]\" ") == std::string::npos;
      if (!plain) {
        out += "[" + Quote(seg.key) + "]";
        continue;
      }
      if (!out.empty()) out += ".";
      out += seg.key;
    }
  }
  return out;
}

std::vector<YamlDocument> ParseYamlDocuments(const std::string& file, const std::string& text,
                                             std::vector<Diagnostic>* errors) {
  auto tree = std::make_shared<FileTree>();
  tree->text = text;
  std::vector<YamlDocument> docs;
  std::vector<Diagnostic> local;  // this file's conversion problems, before duplicate keys are located
  JsonBuilder builder(file, &local);
  try {
    std::istringstream in(text);
    YAML::Parser parser(in);
    for (size_t index = 0; parser.HandleNextDocument(builder); ++index) {
      if (builder.too_large()) {
        errors->push_back(Diagnostic{file, 0, 0,
                                     "aliases expand to more than " + std::to_string(kMaxAliasedNodesPerFile) +
                                         " values; write the values out or use fewer nested aliases"});
        return {};
      }
      JsonBuilder::Document d = builder.TakeDocument();
      if (!d.has_root) continue;  // empty document
      Position start = ToPosition(d.root_mark);
      if (!d.root.is_object()) {
        local.push_back(Diagnostic{file, start.line, start.column,
                                   std::string("document is ") + KindName(d.root) +
                                       "; every document must be a map with apiVersion, kind and metadata"});
        continue;
      }
      YamlDocument doc;
      doc.start = start;
      doc.doc = std::make_shared<Json>(std::move(d.root));
      doc.recorded = std::move(d.recorded);
      doc.cloud_fields = std::move(d.cloud_fields);
      doc.fields_recorded = d.fields_recorded;
      YamlLocatorAccess::Set(&doc.locator, tree, index);
      for (const auto& [path, mark] : d.duplicates) {
        Position at = ToPosition(mark);
        Position first = doc.locator.Find(path, /*at_key=*/true);
        local.push_back(Diagnostic{file, at.line, at.column,
                                   "duplicate key " + Quote(path.back().key) + " (first at line " +
                                       std::to_string(first.line) + "); each key may appear once in a map"});
      }
      docs.push_back(std::move(doc));
    }
  } catch (const TooDeep& deep) {
    Position p = ToPosition(deep.mark);
    errors->push_back(Diagnostic{file, p.line, p.column,
                                 "nested deeper than " + std::to_string(kMaxNesting) +
                                     " levels; no Kubernetes object needs that many: flatten the document"});
    return {};
  } catch (const YAML::Exception& e) {
    Position p = ToPosition(e.mark);
    // A tab in the indentation of the line (or the one before) is the usual cause; say so.
    for (int line : {p.line, p.line - 1}) {
      if (line < 1) continue;
      size_t start = 0;
      for (int l = 1; l < line && start != std::string::npos; ++l) {
        start = text.find('\n', start);
        if (start != std::string::npos) ++start;
      }
      if (start == std::string::npos) continue;
      size_t end = text.find_first_not_of(" \t", start);
      if (end == std::string::npos) end = text.size();
      size_t tab = text.find('\t', start);
      if (tab != std::string::npos && tab < end) {
        errors->push_back(Diagnostic{file, line, static_cast<int>(tab - start) + 1,
                                     "a tab is used for indentation; YAML indents with spaces only: replace the "
                                     "tab with spaces"});
        return {};
      }
    }
    errors->push_back(Diagnostic{file, p.line, p.column, "YAML syntax error: " + e.msg});
    return {};
  }
  errors->insert(errors->end(), local.begin(), local.end());
  return docs;
}

}  // namespace converge::spec_internal
