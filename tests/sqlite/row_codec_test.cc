// RowCodec: the SQL it derives, and rows that go in and come back out through a real file.
#include "engine/sqlite/row_codec.h"

#include <gtest/gtest.h>

#include "engine/sqlite/connection.h"
#include "tests/testing/temp_dir.h"

namespace converge::sqlite {
namespace {

struct Where {
  std::string zone;
  struct Rack {
    int64_t number = 0;
  } rack;
};

struct Machine {
  int64_t id = 0;
  std::string name;
  bool up = false;
  double load = 0;
  int cores = 0;
  std::optional<int64_t> retire_at;
  Where where;
  std::vector<std::string> tags;  // stored as "a,b,c"
  std::optional<std::string> note;
};

std::string JoinTags(const std::vector<std::string>& tags) {
  std::string out;
  for (const std::string& t : tags) out += (out.empty() ? "" : ",") + t;
  return out;
}

std::vector<std::string> SplitTags(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    out.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

const RowCodec<Machine>& Codec() {
  static const RowCodec<Machine> codec(
      "machines",
      {Field("id", &Machine::id), Field("name", &Machine::name), Field("up", &Machine::up),
       Field("load", &Machine::load), Field("cores", &Machine::cores), Field("retire_at", &Machine::retire_at),
       Field("zone", &Machine::where, &Where::zone), Field("rack", &Machine::where, &Where::rack, &Where::Rack::number),
       Computed<Machine>(
           "tags", [](const Machine& m) { return JoinTags(m.tags); },
           [](Machine& m, std::string text) { m.tags = SplitTags(text); }),
       Field("note", &Machine::note)},
      {"id"});
  return codec;
}

bool Same(const Machine& a, const Machine& b) {
  return a.id == b.id && a.name == b.name && a.up == b.up && a.load == b.load && a.cores == b.cores &&
         a.retire_at == b.retire_at && a.where.zone == b.where.zone && a.where.rack.number == b.where.rack.number &&
         a.tags == b.tags && a.note == b.note;
}

Machine Sample(int64_t id) {
  Machine m;
  m.id = id;
  m.name = "m" + std::to_string(id) + std::string("\0x", 2);
  m.up = id % 2 == 1;
  m.load = 0.25 * static_cast<double>(id);
  m.cores = static_cast<int>(id * 4);
  if (id % 3 == 0) m.retire_at = 1000 + id;
  m.where.zone = "z" + std::to_string(id % 2);
  m.where.rack.number = id * 10;
  m.tags = {"gpu", "t" + std::to_string(id)};
  if (id % 2 == 0) m.note = id == 2 ? "" : "note " + std::to_string(id);  // "" is not NULL
  return m;
}

TEST(RowCodecSqlTest, DerivesEveryStatementFromTheColumns) {
  const RowCodec<Machine>& c = Codec();
  EXPECT_EQ(c.size(), 10);
  EXPECT_EQ(c.Index("id"), 1);
  EXPECT_EQ(c.Index("tags"), 9);
  EXPECT_EQ(c.Index("nope"), 0);
  EXPECT_EQ(c.Columns(), "id, name, up, load, cores, retire_at, zone, rack, tags, note");
  EXPECT_EQ(c.Columns("m"), "m.id, m.name, m.up, m.load, m.cores, m.retire_at, m.zone, m.rack, m.tags, m.note");
  EXPECT_EQ(c.Select(), "SELECT id, name, up, load, cores, retire_at, zone, rack, tags, note FROM machines");
  EXPECT_EQ(c.Insert(),
            "INSERT INTO machines (id, name, up, load, cores, retire_at, zone, rack, tags, note) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
  EXPECT_EQ(c.Insert("INSERT OR IGNORE").rfind("INSERT OR IGNORE INTO machines (", 0), 0u);
  EXPECT_EQ(c.Upsert(),
            c.Insert() +
                " ON CONFLICT (id) DO UPDATE SET name = excluded.name, up = excluded.up, load = excluded.load, "
                "cores = excluded.cores, retire_at = excluded.retire_at, zone = excluded.zone, rack = excluded.rack, "
                "tags = excluded.tags, note = excluded.note");
  EXPECT_EQ(c.Subset({"id", "name"}).Update(), "UPDATE machines SET name = ?2 WHERE id = ?1");
  EXPECT_EQ(c.Subset({"name", "id"}).Columns(), "id, name");  // the codec's order, not the list's
  EXPECT_EQ(c.Key().Delete(), "DELETE FROM machines WHERE id = ?1");
  EXPECT_EQ(c.Without({"tags", "rack", "note"}).Columns(), "id, name, up, load, cores, retire_at, zone");
  EXPECT_EQ(c.Key().Upsert(), c.Key().Insert() + " ON CONFLICT (id) DO NOTHING");
}

class RowCodecTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<Connection>> conn = Connection::Open(dir_.Join("test.db"));
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    conn_ = std::move(conn).value();
    ASSERT_TRUE(conn_->Exec("CREATE TABLE machines (id INTEGER PRIMARY KEY, name TEXT NOT NULL, up INTEGER NOT NULL, "
                            "load REAL NOT NULL, cores INTEGER NOT NULL, retire_at INTEGER, zone TEXT NOT NULL, "
                            "rack INTEGER NOT NULL, tags TEXT NOT NULL, note TEXT)")
                    .ok());
  }

  Status Write(const std::string& sql, const RowCodec<Machine>& codec, const Machine& m) {
    Statement st = conn_->Prepare(sql);
    codec.Bind(st, m);
    return st.Run();
  }

  std::vector<Machine> All(const RowCodec<Machine>& codec) {
    std::vector<Machine> out;
    Statement st = conn_->Prepare(codec.Select() + " ORDER BY id");
    for (Result<bool> row = st.Step(); row.ok() && *row; row = st.Step()) out.push_back(codec.Read(st));
    return out;
  }

  converge::testing::TempDir dir_{"converge-codec"};
  std::unique_ptr<Connection> conn_;
};

TEST_F(RowCodecTest, RowsRoundTripThroughEveryStatement) {
  for (int64_t id = 1; id <= 6; ++id) ASSERT_TRUE(Write(Codec().Insert(), Codec(), Sample(id)).ok());
  std::vector<Machine> got = All(Codec());
  ASSERT_EQ(got.size(), 6u);
  for (int64_t id = 1; id <= 6; ++id) EXPECT_TRUE(Same(got[id - 1], Sample(id))) << "machine " << id;
  EXPECT_EQ(got[2].retire_at, 1003);
  EXPECT_EQ(got[0].retire_at, std::nullopt);
  EXPECT_EQ(got[0].note, std::nullopt);
  EXPECT_EQ(got[1].note, std::optional<std::string>(""));
  EXPECT_EQ(got[3].note, std::optional<std::string>("note 4"));

  Machine changed = Sample(2);
  changed.name = "renamed";
  changed.retire_at = 5;
  changed.tags = {"x"};
  ASSERT_TRUE(Write(Codec().Upsert(), Codec(), changed).ok());
  EXPECT_TRUE(Same(All(Codec())[1], changed));
  EXPECT_EQ(Write(Codec().Insert(), Codec(), changed).code(), Code::kConflict);

  Machine renamed;
  renamed.id = 3;
  renamed.name = "only the name";
  ASSERT_TRUE(Write(Codec().Subset({"id", "name"}).Update(), Codec().Subset({"id", "name"}), renamed).ok());
  Machine want = Sample(3);
  want.name = "only the name";
  EXPECT_TRUE(Same(All(Codec())[2], want));

  Machine key;
  key.id = 4;
  ASSERT_TRUE(Write(Codec().Key().Delete(), Codec().Key(), key).ok());
  EXPECT_EQ(All(Codec()).size(), 5u);
}

TEST_F(RowCodecTest, ASubsetReadsOnlyItsColumnsAndReadStartsAtAnOffset) {
  ASSERT_TRUE(Write(Codec().Insert(), Codec(), Sample(3)).ok());
  const RowCodec<Machine> light = Codec().Without({"tags", "name"});
  std::vector<Machine> got = All(light);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].id, 3);
  EXPECT_EQ(got[0].where.rack.number, 30);
  EXPECT_TRUE(got[0].tags.empty());
  EXPECT_TRUE(got[0].name.empty());

  Statement st = conn_->Prepare("SELECT 'extra', " + Codec().Columns("m") + " FROM machines m");
  ASSERT_TRUE(*st.Step());
  Machine m;
  Codec().Read(st, &m, 1);
  EXPECT_EQ(st.Text(0), "extra");
  EXPECT_TRUE(Same(m, Sample(3)));
}

}  // namespace
}  // namespace converge::sqlite
