// UnifiedDiff: a line diff with Myers' O(ND) algorithm in linear space (the "middle snake"
// bisection, structured as in diff-match-patch's diff_bisect), printed as a unified diff with
// 3 lines of context. Lines are interned to ints first so comparisons are cheap. Pure.
#include <algorithm>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/diff/diff.h"

namespace converge {
namespace {

constexpr int kContext = 3;
constexpr const char* kRed = "\x1b[31m";
constexpr const char* kGreen = "\x1b[32m";
constexpr const char* kCyan = "\x1b[36m";
constexpr const char* kBold = "\x1b[1m";
constexpr const char* kReset = "\x1b[0m";

struct Lines {
  std::vector<std::string_view> text;
  bool missing_final_newline = false;  // the last line has no '\n'
};

Lines SplitLines(const std::string& s) {
  Lines out;
  size_t start = 0;
  while (start < s.size()) {
    size_t nl = s.find('\n', start);
    if (nl == std::string::npos) {
      out.text.emplace_back(s.data() + start, s.size() - start);
      out.missing_final_newline = true;
      break;
    }
    out.text.emplace_back(s.data() + start, nl - start);
    start = nl + 1;
  }
  return out;
}

// Marks which lines of A are deleted and which lines of B are inserted in a shortest edit script.
class Myers {
 public:
  Myers(const std::vector<int>& a, const std::vector<int>& b)
      : a_(a), b_(b), deleted_(a.size(), false), inserted_(b.size(), false) {}

  void Run() { Compare(0, static_cast<int>(a_.size()), 0, static_cast<int>(b_.size())); }
  const std::vector<bool>& deleted() const { return deleted_; }
  const std::vector<bool>& inserted() const { return inserted_; }

 private:
  void Compare(int a0, int a1, int b0, int b1) {
    while (a0 < a1 && b0 < b1 && a_[a0] == b_[b0]) ++a0, ++b0;
    while (a0 < a1 && b0 < b1 && a_[a1 - 1] == b_[b1 - 1]) --a1, --b1;
    if (a0 == a1) {
      for (int j = b0; j < b1; ++j) inserted_[j] = true;
      return;
    }
    if (b0 == b1) {
      for (int i = a0; i < a1; ++i) deleted_[i] = true;
      return;
    }
    Bisect(a0, a1, b0, b1);
  }

  // Finds the middle snake of A[a0,a1) x B[b0,b1) and recurses on both sides of it.
  void Bisect(int a0, int a1, int b0, int b1) {
    const int n = a1 - a0, m = b1 - b0;
    const int max_d = (n + m + 1) / 2;
    const int offset = max_d;
    const int length = 2 * max_d + 2;
    std::vector<int> v1(length, -1), v2(length, -1);
    v1[offset + 1] = 0;
    v2[offset + 1] = 0;
    const int delta = n - m;
    const bool front = (delta % 2) != 0;
    int k1start = 0, k1end = 0, k2start = 0, k2end = 0;
    for (int d = 0; d < max_d; ++d) {
      for (int k1 = -d + k1start; k1 <= d - k1end; k1 += 2) {
        const int k1o = offset + k1;
        int x1 = (k1 == -d || (k1 != d && v1[k1o - 1] < v1[k1o + 1])) ? v1[k1o + 1] : v1[k1o - 1] + 1;
        int y1 = x1 - k1;
        while (x1 < n && y1 < m && a_[a0 + x1] == b_[b0 + y1]) ++x1, ++y1;
        v1[k1o] = x1;
        if (x1 > n) {
          k1end += 2;
        } else if (y1 > m) {
          k1start += 2;
        } else if (front) {
          const int k2o = offset + delta - k1;
          if (k2o >= 0 && k2o < length && v2[k2o] != -1 && x1 >= n - v2[k2o]) {
            return Split(a0, a1, b0, b1, x1, y1);
          }
        }
      }
      for (int k2 = -d + k2start; k2 <= d - k2end; k2 += 2) {
        const int k2o = offset + k2;
        int x2 = (k2 == -d || (k2 != d && v2[k2o - 1] < v2[k2o + 1])) ? v2[k2o + 1] : v2[k2o - 1] + 1;
        int y2 = x2 - k2;
        while (x2 < n && y2 < m && a_[a1 - 1 - x2] == b_[b1 - 1 - y2]) ++x2, ++y2;
        v2[k2o] = x2;
        if (x2 > n) {
          k2end += 2;
        } else if (y2 > m) {
          k2start += 2;
        } else if (!front) {
          const int k1o = offset + delta - k2;
          if (k1o >= 0 && k1o < length && v1[k1o] != -1) {
            const int x1 = v1[k1o];
            const int y1 = offset + x1 - k1o;
            if (x1 >= n - x2) return Split(a0, a1, b0, b1, x1, y1);
          }
        }
      }
    }
    // No common line at all.
    for (int i = a0; i < a1; ++i) deleted_[i] = true;
    for (int j = b0; j < b1; ++j) inserted_[j] = true;
  }

  void Split(int a0, int a1, int b0, int b1, int x, int y) {
    Compare(a0, a0 + x, b0, b0 + y);
    Compare(a0 + x, a1, b0 + y, b1);
  }

  const std::vector<int>& a_;
  const std::vector<int>& b_;
  std::vector<bool> deleted_;
  std::vector<bool> inserted_;
};

struct Op {
  char type;  // ' ', '-', '+'
  int a;      // index into A of this line (' ', '-'), or of the next A line ('+')
  int b;      // likewise for B
};

std::vector<Op> EditScript(const Lines& la, const Lines& lb) {
  // Intern lines; a final line without '\n' differs from the same text with one.
  std::unordered_map<std::string, int> ids;
  auto intern = [&ids](const Lines& lines) {
    std::vector<int> out;
    out.reserve(lines.text.size());
    for (size_t i = 0; i < lines.text.size(); ++i) {
      std::string key(lines.text[i]);
      if (lines.missing_final_newline && i + 1 == lines.text.size()) key += "\n<no newline>";
      out.push_back(ids.emplace(std::move(key), static_cast<int>(ids.size())).first->second);
    }
    return out;
  };
  std::vector<int> a = intern(la), b = intern(lb);
  Myers myers(a, b);
  myers.Run();
  std::vector<Op> ops;
  int i = 0, j = 0;
  const int n = static_cast<int>(a.size()), m = static_cast<int>(b.size());
  while (i < n || j < m) {
    if (i < n && myers.deleted()[i]) {
      ops.push_back({'-', i, j});
      ++i;
    } else if (j < m && myers.inserted()[j]) {
      ops.push_back({'+', i, j});
      ++j;
    } else {
      ops.push_back({' ', i, j});
      ++i, ++j;
    }
  }
  return ops;
}

std::string Range(int before, int count) {
  // GNU convention: an empty range names the line before it.
  return std::to_string(count == 0 ? before : before + 1) + "," + std::to_string(count);
}

}  // namespace

std::string UnifiedDiff(const std::string& a, const std::string& b, const std::string& a_label,
                        const std::string& b_label, bool color) {
  if (a == b) return "";
  const Lines la = SplitLines(a), lb = SplitLines(b);
  const std::vector<Op> ops = EditScript(la, lb);
  const int count = static_cast<int>(ops.size());

  std::string out;
  auto colored = [&](const char* c, const std::string& text) {
    const bool paint = color && *c != '\0';
    if (paint) out += c;
    out += text;
    if (paint) out += kReset;
    out += '\n';
  };
  colored(kBold, "--- " + a_label);
  colored(kBold, "+++ " + b_label);

  int pos = 0;
  while (pos < count) {
    while (pos < count && ops[pos].type == ' ') ++pos;
    if (pos == count) break;
    // A hunk: changes whose gaps are at most 2*context lines, with context around.
    const int begin = std::max(0, pos - kContext);
    int last_change = pos;
    int scan = pos;
    while (scan < count) {
      if (ops[scan].type != ' ') {
        last_change = scan;
        ++scan;
        continue;
      }
      int run = scan;
      while (run < count && ops[run].type == ' ') ++run;
      if (run == count || run - scan > 2 * kContext) break;
      scan = run;
    }
    const int end = std::min(count, last_change + 1 + kContext);
    int a_count = 0, b_count = 0;
    for (int k = begin; k < end; ++k) {
      if (ops[k].type != '+') ++a_count;
      if (ops[k].type != '-') ++b_count;
    }
    colored(kCyan, "@@ -" + Range(ops[begin].a, a_count) + " +" + Range(ops[begin].b, b_count) + " @@");
    for (int k = begin; k < end; ++k) {
      const Op& op = ops[k];
      const bool from_a = op.type != '+';
      const std::string_view text = from_a ? la.text[op.a] : lb.text[op.b];
      std::string line(1, op.type);
      line += text;
      colored(op.type == '-' ? kRed : op.type == '+' ? kGreen : "", line);
      const bool a_last = from_a && la.missing_final_newline && op.a + 1 == static_cast<int>(la.text.size());
      const bool b_last = op.type != '-' && lb.missing_final_newline &&
                          op.b + 1 == static_cast<int>(lb.text.size());
      if ((op.type == '-' && a_last) || (op.type == '+' && b_last) || (op.type == ' ' && (a_last || b_last))) {
        out += "\\ No newline at end of file\n";
      }
    }
    pos = end;
  }
  return out;
}

}  // namespace converge
