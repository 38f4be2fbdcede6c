// UnifiedDiff: hunk shape, context, merging of nearby changes, colors, and that the edit script
// is a shortest one (checked against an LCS table on random inputs).
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/diff/diff.h"

namespace converge {
namespace {

std::string Numbered(int from, int to) {  // "from\n...to\n"
  std::string s;
  for (int i = from; i <= to; ++i) s += std::to_string(i) + "\n";
  return s;
}

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

TEST(UnifiedDiffTest, EqualTextsGiveNothing) { EXPECT_EQ(UnifiedDiff("a\n", "a\n", "x", "y"), ""); }

TEST(UnifiedDiffTest, OneChangedLineWithThreeLinesOfContext) {
  std::string b = "1\n2\n3\n4\n5\nFIVE-AND-A-HALF\n7\n8\n9\n10\n";
  std::string a = Numbered(1, 10);
  EXPECT_EQ(UnifiedDiff(a, b, "live", "desired"),
            "--- live\n+++ desired\n"
            "@@ -3,7 +3,7 @@\n 3\n 4\n 5\n-6\n+FIVE-AND-A-HALF\n 7\n 8\n 9\n");
}

TEST(UnifiedDiffTest, FarApartChangesMakeTwoHunks) {
  std::string a = Numbered(1, 20);
  std::string b = a;
  b.replace(b.find("2\n"), 2, "two\n");
  b.replace(b.find("18\n"), 3, "eighteen\n");
  std::string out = UnifiedDiff(a, b, "a", "b");
  EXPECT_NE(out.find("@@ -1,5 +1,5 @@\n 1\n-2\n+two\n 3\n 4\n 5\n"), std::string::npos) << out;
  EXPECT_NE(out.find("@@ -15,6 +15,6 @@\n 15\n 16\n 17\n-18\n+eighteen\n 19\n 20\n"), std::string::npos)
      << out;
}

TEST(UnifiedDiffTest, ChangesSixLinesApartShareAHunk) {
  std::string a = Numbered(1, 20);
  std::string b = a;
  b.replace(b.find("5\n"), 2, "five\n");
  b.replace(b.find("12\n"), 3, "twelve\n");  // 6 unchanged lines (6..11) between
  std::string out = UnifiedDiff(a, b, "a", "b");
  EXPECT_NE(out.find("@@ -2,14 +2,14 @@"), std::string::npos) << out;
  EXPECT_EQ(out.find("@@ -", out.find("@@ -2,14") + 1), std::string::npos) << out;
}

TEST(UnifiedDiffTest, CreateAndDeleteAgainstEmpty) {
  EXPECT_EQ(UnifiedDiff("", "a\nb\n", "live", "desired"), "--- live\n+++ desired\n@@ -0,0 +1,2 @@\n+a\n+b\n");
  EXPECT_EQ(UnifiedDiff("a\n", "", "live", "desired"), "--- live\n+++ desired\n@@ -1,1 +0,0 @@\n-a\n");
}

TEST(UnifiedDiffTest, InsertionAfterLastLine) {
  EXPECT_EQ(UnifiedDiff("a\nb\n", "a\nb\nc\n", "x", "y"), "--- x\n+++ y\n@@ -1,2 +1,3 @@\n a\n b\n+c\n");
}

TEST(UnifiedDiffTest, MissingFinalNewlineIsMarked) {
  EXPECT_EQ(UnifiedDiff("a\n", "a", "x", "y"),
            "--- x\n+++ y\n@@ -1,1 +1,1 @@\n-a\n+a\n\\ No newline at end of file\n");
}

TEST(UnifiedDiffTest, ColorsRemovedAddedAndHunkHeaders) {
  std::string out = UnifiedDiff("a\n", "b\n", "x", "y", /*color=*/true);
  EXPECT_NE(out.find("\x1b[36m@@ -1,1 +1,1 @@\x1b[0m\n"), std::string::npos) << out;
  EXPECT_NE(out.find("\x1b[31m-a\x1b[0m\n"), std::string::npos) << out;
  EXPECT_NE(out.find("\x1b[32m+b\x1b[0m\n"), std::string::npos) << out;
}

// Applies the hunks to `a` and returns the result plus the number of -/+ lines.
std::string Patch(const std::string& a, const std::string& diff, int* edits) {
  std::vector<std::string> src = Split(a), out;
  std::vector<std::string> lines = Split(diff);
  size_t next = 0;  // next unconsumed line of src
  *edits = 0;
  for (size_t i = 2; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    if (l.rfind("@@ -", 0) == 0) {
      int start = std::stoi(l.substr(4));
      size_t comma = l.find(',');
      int count = std::stoi(l.substr(comma + 1));
      size_t first = count == 0 ? static_cast<size_t>(start) : static_cast<size_t>(start - 1);
      while (next < first) out.push_back(src[next++]);
      continue;
    }
    if (l[0] == ' ') {
      EXPECT_EQ(src[next], l.substr(1));
      out.push_back(src[next++]);
    } else if (l[0] == '-') {
      EXPECT_EQ(src[next], l.substr(1));
      ++next;
      ++*edits;
    } else if (l[0] == '+') {
      out.push_back(l.substr(1));
      ++*edits;
    }
  }
  while (next < src.size()) out.push_back(src[next++]);
  std::string joined;
  for (const auto& s : out) joined += s + "\n";
  return joined;
}

int ShortestEdit(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::vector<std::vector<int>> lcs(a.size() + 1, std::vector<int>(b.size() + 1, 0));
  for (size_t i = 1; i <= a.size(); ++i)
    for (size_t j = 1; j <= b.size(); ++j)
      lcs[i][j] = a[i - 1] == b[j - 1] ? lcs[i - 1][j - 1] + 1 : std::max(lcs[i - 1][j], lcs[i][j - 1]);
  return static_cast<int>(a.size() + b.size()) - 2 * lcs[a.size()][b.size()];
}

TEST(UnifiedDiffTest, RandomInputsPatchBackWithAShortestEditScript) {
  std::mt19937 rng(12345);
  for (int round = 0; round < 400; ++round) {
    const int alphabet = 2 + static_cast<int>(rng() % 5);
    auto make = [&] {
      std::string s;
      int n = static_cast<int>(rng() % 30);
      for (int i = 0; i < n; ++i) s += std::string(1, static_cast<char>('a' + rng() % alphabet)) + "\n";
      return s;
    };
    std::string a = make(), b = make();
    std::string diff = UnifiedDiff(a, b, "a", "b");
    int edits = 0;
    EXPECT_EQ(Patch(a, diff, &edits), b) << "a=" << a << "\nb=" << b << "\n" << diff;
    EXPECT_EQ(edits, ShortestEdit(Split(a), Split(b))) << "a=" << a << "\nb=" << b << "\n" << diff;
  }
}

TEST(UnifiedDiffTest, LargeObjectsDiffQuicklyEnough) {
  // 5000-line texts with scattered edits: must finish (linear-space Myers), and patch back.
  std::string a, b;
  for (int i = 0; i < 5000; ++i) {
    a += "line " + std::to_string(i) + "\n";
    b += (i % 97 == 0 ? "changed " : "line ") + std::to_string(i) + "\n";
  }
  std::string diff = UnifiedDiff(a, b, "a", "b");
  int edits = 0;
  EXPECT_EQ(Patch(a, diff, &edits), b);
  EXPECT_EQ(edits, 2 * 52);
}

TEST(UnifiedDiffTest, CompletelyDifferentTexts) {
  std::string a, b;
  for (int i = 0; i < 1000; ++i) {
    a += "a" + std::to_string(i) + "\n";
    b += "b" + std::to_string(i) + "\n";
  }
  std::string diff = UnifiedDiff(a, b, "a", "b");
  int edits = 0;
  EXPECT_EQ(Patch(a, diff, &edits), b);
  EXPECT_EQ(edits, 2000);
}

}  // namespace
}  // namespace converge
