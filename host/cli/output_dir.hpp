// The output directory of a command that writes its results into one (tmesim sensitivity,
// tmesim calibrate), made the way a run's is (host/io/run_dir.hpp).
#pragma once
#include <filesystem>
#include <iosfwd>
#include <memory>
#include <string>

#include "host/io/run_dir.hpp"

namespace tme {

// Creates the parent directories of `dir`, then "<dir>.incomplete" as a RunDirectory (replacing
// an existing `dir` only with `force`). When either fails, writes "<me><why>\n" to `err` and
// returns null (the command then exits with status 2).
std::unique_ptr<RunDirectory> open_output_dir(const std::filesystem::path& dir, bool force, const std::string& me,
                                              std::ostream& err);

}  // namespace tme
