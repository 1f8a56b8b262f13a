// tmesim compare RUN...: checks that every RUN is a finished run directory, then runs
// viz/compare.py, which writes the comparison (compare.csv, events.csv, PNG plots, compare.json)
// and prints the summary table.
#include <ostream>
#include <string>
#include <vector>

#include "host/cli/commands.hpp"

namespace tme {

int cmd_compare(const CompareOptions& o, std::ostream& out, std::ostream& err) {
  for (const std::string& run : o.runs)
    if (const std::string why = report_refusal(run); !why.empty()) {
      err << "tmesim compare: " << why << "\n";
      return 2;
    }
  std::vector<std::string> args{"--output", o.out};
  for (const std::string& c : o.columns) args.insert(args.end(), {"--column", c});
  for (const std::string& l : o.labels) args.insert(args.end(), {"--label", l});
  if (o.force) args.push_back("--force");
  args.push_back("--");
  args.insert(args.end(), o.runs.begin(), o.runs.end());
  return run_viz_script("compare", "compare.py", args, out, err);
}

}  // namespace tme
