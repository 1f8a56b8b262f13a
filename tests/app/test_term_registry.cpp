// The term registry (kTermRegistry, kernels/term_types.hpp): its rows are consistent with the
// kernel's TermKind and parameter slots, and the term reference of docs/model.md ("## Terms")
// lists exactly its kinds, in its order, with exactly its keys, the population targets and
// which keys are optional. A new kind or key fails here until the docs name it.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "host/core/model.hpp"

namespace {

using tme::kTermRegistry;
using tme::TermKeyType;
using tme::TermNeed;
using tme::TermRow;

std::string trim(const std::string& s) {
  const size_t a = s.find_first_not_of(' '), b = s.find_last_not_of(' ');
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

// Splits at `sep` outside parentheses.
std::vector<std::string> split_top(const std::string& s, char sep) {
  std::vector<std::string> out(1);
  int depth = 0;
  for (char c : s) {
    depth += c == '(' ? 1 : c == ')' ? -1 : 0;
    if (c == sep && depth == 0)
      out.emplace_back();
    else
      out.back() += c;
  }
  for (std::string& x : out) x = trim(x);
  return out;
}

// The first `...` of s, or "".
std::string first_code(const std::string& s) {
  const size_t a = s.find('`');
  if (a != 0) return "";
  const size_t b = s.find('`', a + 1);
  return b == std::string::npos ? "" : s.substr(a + 1, b - a - 1);
}

struct DocTerm {
  std::string kind;
  bool population = false;
  std::vector<std::string> keys;
  std::vector<std::string> notes;  // each key's text after its name
};

// The rows of the table under "## Terms" in docs/model.md.
std::vector<DocTerm> doc_terms() {
  std::ifstream in(std::string(TMESIM_SOURCE_DIR) + "/docs/model.md");
  EXPECT_TRUE(in.good()) << "docs/model.md";
  std::vector<DocTerm> rows;
  std::string line;
  bool section = false, table = false;
  while (std::getline(in, line)) {
    if (line.rfind("## ", 0) == 0) {
      section = line == "## Terms";
      continue;
    }
    if (!section) continue;
    if (line.rfind("| Kind |", 0) == 0) {
      table = true;
      continue;
    }
    if (!table || line.rfind("|---", 0) == 0) continue;
    if (line.rfind("|", 0) != 0) break;  // the end of the table
    const std::vector<std::string> cells = split_top(line.substr(1), '|');
    EXPECT_GE(cells.size(), 3u) << line;
    if (cells.size() < 3) continue;
    DocTerm t;
    const std::string k = first_code(cells[0]);
    t.kind = k.substr(0, k.find(':'));
    t.population = cells[0].find("(population)") != std::string::npos;
    for (const std::string& item : split_top(cells[1], ',')) {
      t.keys.push_back(first_code(item));
      t.notes.push_back(item.substr(std::min(item.size(), t.keys.back().size() + 2)));
    }
    rows.push_back(t);
  }
  return rows;
}

TEST(TermRegistry, RowsMatchTheKernelKindsAndSlots) {
  std::set<std::string> names;
  int reaction_rows = 0;
  for (const TermRow& r : kTermRegistry) {
    EXPECT_TRUE(names.insert(r.name).second) << "duplicate kind " << r.name;
    if (r.kind >= 0) {
      // Rows of reaction terms come first, in TermKind order.
      EXPECT_EQ(r.kind, reaction_rows) << r.name;
      ++reaction_rows;
      EXPECT_EQ(tme::term_row(r.kind), &r);
    }
    std::set<std::string> keys{r.name};
    for (const tme::TermKey& k : r.keys) {
      if (!k.key) break;
      EXPECT_TRUE(keys.insert(k.key).second) << r.name << ": duplicate key " << k.key;
      if (k.type == TermKeyType::kValue || k.type == TermKeyType::kChoice) {
        EXPECT_TRUE(k.noun) << r.name << "." << k.key;
        EXPECT_LT(k.slot, tme::kTermParams) << r.name << "." << k.key;
        // A reaction term stores every value; chemotaxis (kind -1) is read by its hook.
        if (r.kind >= 0) {
          EXPECT_GE(k.slot, 0) << r.name << "." << k.key;
        }
      }
      if (k.type == TermKeyType::kValue) {
        EXPECT_TRUE(k.unit[0]) << r.name << "." << k.key;
      }
      if (k.type == TermKeyType::kChoice) {
        EXPECT_TRUE(k.choices) << r.name << "." << k.key;
      }
    }
  }
  EXPECT_EQ(reaction_rows, tme::kTermKinds);
  EXPECT_EQ(tme::term_row(tme::kTermKinds), nullptr);
  EXPECT_EQ(tme::term_row(-1), nullptr);
  // The growth law's choices are the GrowthLaw values in order.
  const tme::TermKey& law = tme::term_row(tme::kTermGrowth)->keys[1];
  EXPECT_STREQ(law.key, "law");
  EXPECT_STREQ(law.choices, "logistic|gompertz");
  EXPECT_EQ(tme::kGrowthLogistic, 0);
  EXPECT_EQ(tme::kGrowthGompertz, 1);
}

TEST(TermRegistry, DocsListExactlyTheRegistryKindsAndKeys) {
  const std::vector<DocTerm> doc = doc_terms();
  std::vector<std::string> want_kinds, got_kinds;
  for (const TermRow& r : kTermRegistry) want_kinds.push_back(r.name);
  for (const DocTerm& d : doc) got_kinds.push_back(d.kind);
  ASSERT_EQ(got_kinds, want_kinds) << "the term table of docs/model.md";
  for (size_t i = 0; i < doc.size(); ++i) {
    const TermRow& r = kTermRegistry[i];
    std::vector<std::string> want;
    for (const tme::TermKey& k : r.keys)
      if (k.key) want.push_back(k.key);
    EXPECT_EQ(doc[i].keys, want) << "keys of " << r.name << " in docs/model.md";
    EXPECT_EQ(doc[i].population, r.population_target) << r.name << ": '(population)' in docs/model.md";
    for (size_t j = 0; j < want.size() && j < doc[i].keys.size(); ++j) {
      const tme::TermKey& k = r.keys[j];
      if (k.type == TermKeyType::kFactors || k.type == TermKeyType::kProducts) continue;
      const std::string& note = doc[i].notes[j];
      const bool optional = note.find("optional") != std::string::npos || note.find("default") != std::string::npos;
      if (k.need == TermNeed::kOptional) {
        EXPECT_TRUE(optional) << r.name << "." << k.key << ": docs say neither optional nor default: " << note;
      } else if (k.need == TermNeed::kRequired) {
        EXPECT_FALSE(optional) << r.name << "." << k.key << " is required; docs: " << note;
      } else {
        EXPECT_NE(note.find("required with factors"), std::string::npos) << r.name << "." << k.key;
      }
    }
  }
}

TEST(TermRegistry, DocsStateTheLimits) {
  std::ifstream in(std::string(TMESIM_SOURCE_DIR) + "/docs/model.md");
  std::stringstream ss;
  ss << in.rdbuf();
  std::ostringstream want;
  want << "At most " << tme::kMaxTerms << " terms, " << tme::kMaxChemotaxis << " chemotaxis terms, "
       << tme::kMaxTermFactors << " factors per term, " << tme::kMaxTermProducts << " products.";
  EXPECT_NE(ss.str().find(want.str()), std::string::npos) << want.str();
}

}  // namespace
