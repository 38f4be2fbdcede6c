// RowCodec<Row>: a table's columns described once — a name, how to bind it from a Row and how to
// read it back — from which the column list, the SELECT / INSERT / upsert / UPDATE / DELETE text
// and the bind and read code are derived, so no caller writes a bind list by hand. Parameters are
// numbered by column position (?1 is the first column), so one Bind() serves every statement a
// codec produces. Subset()/Without() give codecs over some of the columns (e.g. a row without its
// large body, or just the key). Codecs are immutable after construction and safe to share
// between threads; the Statements they bind follow the Connection's rules.
//
//   const RowCodec<Source> codec("sources", {Field("id", &Source::id), Field("url", &Source::url),
//                                Field("cluster", &Row::ref, &ObjectRef::cluster)}, {"id"});
//   Statement st = conn.Prepare(codec.Upsert());
//   codec.Bind(st, row);
#pragma once

#include <cassert>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "engine/sqlite/statement.h"

namespace converge::sqlite {

// How a C++ value type is bound and read. Specialized for the types SQLite stores directly.
template <typename T>
struct ColumnTraits;
template <>
struct ColumnTraits<int64_t> {
  static void Bind(Statement& st, int i, int64_t v) { st.Bind(i, v); }
  static int64_t Read(const Statement& st, int c) { return st.Int64(c); }
};
template <>
struct ColumnTraits<int> {
  static void Bind(Statement& st, int i, int v) { st.Bind(i, v); }
  static int Read(const Statement& st, int c) { return st.Int(c); }
};
template <>
struct ColumnTraits<bool> {
  static void Bind(Statement& st, int i, bool v) { st.Bind(i, v); }
  static bool Read(const Statement& st, int c) { return st.Bool(c); }
};
template <>
struct ColumnTraits<double> {
  static void Bind(Statement& st, int i, double v) { st.Bind(i, v); }
  static double Read(const Statement& st, int c) { return st.Double(c); }
};
template <>
struct ColumnTraits<std::string> {
  static void Bind(Statement& st, int i, const std::string& v) { st.Bind(i, v); }
  static std::string Read(const Statement& st, int c) { return st.Text(c); }
};
template <>
struct ColumnTraits<std::optional<int64_t>> {
  static void Bind(Statement& st, int i, const std::optional<int64_t>& v) { st.Bind(i, v); }
  static std::optional<int64_t> Read(const Statement& st, int c) { return st.OptionalInt64(c); }
};

template <>
struct ColumnTraits<std::optional<std::string>> {  // nullable TEXT
  static void Bind(Statement& st, int i, const std::optional<std::string>& v) {
    if (v) {
      st.Bind(i, *v);
    } else {
      st.BindNull(i);
    }
  }
  static std::optional<std::string> Read(const Statement& st, int c) {
    if (st.IsNull(c)) return std::nullopt;
    return st.Text(c);
  }
};

template <typename Row>
struct Column {
  std::string name;
  std::function<void(Statement&, int index, const Row&)> bind;
  std::function<void(const Statement&, int column, Row&)> read;
};

namespace internal {
template <typename T, typename M>
decltype(auto) Follow(T& obj, M member) {
  return (obj.*member);
}
template <typename T, typename M, typename... Ms>
decltype(auto) Follow(T& obj, M member, Ms... rest) {
  return Follow(obj.*member, rest...);
}
}  // namespace internal

// A column stored in a member, or a member of a member: Field("cluster", &Row::ref, &ObjectRef::cluster).
template <typename Row, typename M0, typename... Ms>
Column<Row> Field(std::string name, M0 Row::*first, Ms... rest) {
  using T = std::decay_t<decltype(internal::Follow(std::declval<Row&>(), first, rest...))>;
  return Column<Row>{
      std::move(name),
      [=](Statement& st, int i, const Row& row) { ColumnTraits<T>::Bind(st, i, internal::Follow(row, first, rest...)); },
      [=](const Statement& st, int c, Row& row) { internal::Follow(row, first, rest...) = ColumnTraits<T>::Read(st, c); }};
}

// A std::string column stored as a BLOB (bytes, not text): BlobField("parsed", &Row::parsed).
template <typename Row, typename M0, typename... Ms>
Column<Row> BlobField(std::string name, M0 Row::*first, Ms... rest) {
  return Column<Row>{
      std::move(name),
      [=](Statement& st, int i, const Row& row) { st.BindBlob(i, internal::Follow(row, first, rest...)); },
      [=](const Statement& st, int c, Row& row) { internal::Follow(row, first, rest...) = st.Text(c); }};
}

// A column converted on the way in and out: `get(row)` returns a storable value (int64_t, int,
// bool, double, std::string, std::optional<int64_t> or std::optional<std::string>, where nullopt
// is NULL), `set(row, value)` takes it back.
template <typename Row, typename Get, typename Set>
Column<Row> Computed(std::string name, Get get, Set set) {
  using T = std::decay_t<std::invoke_result_t<Get, const Row&>>;
  return Column<Row>{std::move(name), [get](Statement& st, int i, const Row& row) { ColumnTraits<T>::Bind(st, i, get(row)); },
                     [set](const Statement& st, int c, Row& row) { set(row, ColumnTraits<T>::Read(st, c)); }};
}

template <typename Row>
class RowCodec {
 public:
  // `key`: the columns of the primary key (or a unique constraint), the conflict target of
  // Upsert() and the WHERE of Update()/Delete().
  RowCodec(std::string table, std::vector<Column<Row>> columns, std::vector<std::string> key = {})
      : table_(std::move(table)), columns_(std::move(columns)), key_(std::move(key)) {}

  const std::string& table() const { return table_; }
  int size() const { return static_cast<int>(columns_.size()); }
  // 1-based parameter index of `name` (also its 0-based read column + 1); 0 when absent.
  int Index(std::string_view name) const {
    for (size_t i = 0; i < columns_.size(); ++i) {
      if (columns_[i].name == name) return static_cast<int>(i) + 1;
    }
    return 0;
  }

  // "a, b, c", or "t.a, t.b, t.c" with a qualifier.
  std::string Columns(std::string_view qualifier = "") const {
    std::string out;
    for (const Column<Row>& c : columns_) {
      if (!out.empty()) out += ", ";
      if (!qualifier.empty()) out.append(qualifier).append(".");
      out += c.name;
    }
    return out;
  }
  // "SELECT a, b FROM table"; append WHERE / ORDER BY. Read() reads its columns.
  std::string Select() const { return "SELECT " + Columns() + " FROM " + table_; }
  // "INSERT INTO table (a, b) VALUES (?1, ?2)"; `verb` may be "INSERT OR IGNORE" etc.
  std::string Insert(std::string_view verb = "INSERT") const {
    std::string values;
    for (int i = 1; i <= size(); ++i) values += (i > 1 ? ", ?" : "?") + std::to_string(i);
    return std::string(verb) + " INTO " + table_ + " (" + Columns() + ") VALUES (" + values + ")";
  }
  // Insert() that updates every non-key column when a row with the same key exists.
  std::string Upsert() const {
    std::string set;
    for (const Column<Row>& c : columns_) {
      if (IsKey(c.name)) continue;
      if (!set.empty()) set += ", ";
      set += c.name + " = excluded." + c.name;
    }
    std::string target;
    for (const std::string& k : key_) target += (target.empty() ? "" : ", ") + k;
    return Insert() + " ON CONFLICT (" + target + ") DO " + (set.empty() ? "NOTHING" : "UPDATE SET " + set);
  }
  // "UPDATE table SET b = ?2, c = ?3 WHERE a = ?1": every non-key column of this codec, by key.
  std::string Update() const {
    std::string set;
    for (size_t i = 0; i < columns_.size(); ++i) {
      if (IsKey(columns_[i].name)) continue;
      if (!set.empty()) set += ", ";
      set += columns_[i].name + " = ?" + std::to_string(i + 1);
    }
    return "UPDATE " + table_ + " SET " + set + " WHERE " + KeyWhere();
  }
  // "DELETE FROM table WHERE a = ?1 ...": use on Subset(key) so the parameters are the key's.
  std::string Delete() const { return "DELETE FROM " + table_ + " WHERE " + KeyWhere(); }
  // "a = ?1 AND b = ?2" over the key columns, numbered by their position in this codec.
  std::string KeyWhere() const {
    std::string where;
    for (size_t i = 0; i < columns_.size(); ++i) {
      if (!IsKey(columns_[i].name)) continue;
      if (!where.empty()) where += " AND ";
      where += columns_[i].name + " = ?" + std::to_string(i + 1);
    }
    return where;
  }

  // The codec over just `names` (kept in this codec's order) / over all but `names`. Naming a
  // column the codec does not have is a programming error (assert).
  RowCodec Subset(const std::vector<std::string_view>& names) const { return Filter(names, true); }
  RowCodec Without(const std::vector<std::string_view>& names) const { return Filter(names, false); }
  // The same columns with another key (e.g. the rowid for an UPDATE by id).
  RowCodec WithKey(std::vector<std::string> key) const {
    for ([[maybe_unused]] const std::string& k : key) assert(Index(k) != 0 && "no such column in this codec");
    return RowCodec(table_, columns_, std::move(key));
  }
  // The codec over the key columns.
  RowCodec Key() const {
    std::vector<std::string_view> names(key_.begin(), key_.end());
    return Subset(names);
  }

  // Binds parameter i+1 from column i.
  void Bind(Statement& st, const Row& row) const {
    for (size_t i = 0; i < columns_.size(); ++i) columns_[i].bind(st, static_cast<int>(i) + 1, row);
  }
  // Reads column `first + i` into column i's field.
  void Read(const Statement& st, Row* row, int first = 0) const {
    for (size_t i = 0; i < columns_.size(); ++i) columns_[i].read(st, first + static_cast<int>(i), *row);
  }
  Row Read(const Statement& st, int first = 0) const {
    Row row{};
    Read(st, &row, first);
    return row;
  }
  // Steps `st` to the end, reading every row (columns from `first`).
  Result<std::vector<Row>> ReadAll(Statement& st, int first = 0) const {
    std::vector<Row> out;
    for (;;) {
      Result<bool> row = st.Step();
      if (!row.ok()) return row.status();
      if (!*row) return out;
      out.push_back(Read(st, first));
    }
  }

 private:
  bool IsKey(const std::string& name) const {
    for (const std::string& k : key_) {
      if (k == name) return true;
    }
    return false;
  }
  RowCodec Filter(const std::vector<std::string_view>& names, bool keep) const {
    for ([[maybe_unused]] std::string_view n : names) assert(Index(n) != 0 && "no such column in this codec");
    auto listed = [&](const std::string& n) {
      for (std::string_view want : names) {
        if (want == n) return true;
      }
      return false;
    };
    std::vector<Column<Row>> cols;
    for (const Column<Row>& c : columns_) {
      if (listed(c.name) == keep) cols.push_back(c);
    }
    std::vector<std::string> key;
    for (const std::string& k : key_) {
      if (listed(k) == keep) key.push_back(k);
    }
    return RowCodec(table_, std::move(cols), std::move(key));
  }

  std::string table_;
  std::vector<Column<Row>> columns_;
  std::vector<std::string> key_;
};

}  // namespace converge::sqlite
