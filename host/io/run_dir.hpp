// The run directory: built under "<dir>.incomplete" and renamed to <dir> when the run
// succeeds; every file inside is written to a temporary name and renamed.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "host/core/observables.hpp"

namespace tme {

// Write `text` to path + ".tmp", then rename onto path. Throws std::runtime_error.
void write_text_atomic(const std::filesystem::path& path, const std::string& text);

class RunDirectory {
 public:
  // Refuses (std::runtime_error) when `final_dir` exists and !force.
  RunDirectory(std::filesystem::path final_dir, bool force);
  const std::filesystem::path& work() const { return work_; }    // where files go meanwhile
  const std::filesystem::path& final_path() const { return final_; }
  // Move the finished directory into place (replacing an old one when forced).
  void commit();

 private:
  std::filesystem::path final_, work_;
  bool force_;
};

// Observables CSV: "time_s" then per species and region "<species>.<region>.<stat>" for
// stat in total (unit*um^3), mean, min, max (unit). Region "grid" is the whole grid.
std::string observables_header(const Problem& p);
std::string observables_row(double t, const std::vector<std::vector<Stats>>& stats);

// JSON string literal with escapes.
std::string json_quote(const std::string& s);

}  // namespace tme
