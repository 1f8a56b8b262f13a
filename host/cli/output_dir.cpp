// The output directory of a command (see output_dir.hpp).
#include "host/cli/output_dir.hpp"

#include <exception>
#include <ostream>

namespace tme {

std::unique_ptr<RunDirectory> open_output_dir(const std::filesystem::path& dir, bool force, const std::string& me,
                                              std::ostream& err) {
  try {
    if (!dir.parent_path().empty()) std::filesystem::create_directories(dir.parent_path());
    return std::make_unique<RunDirectory>(dir, force);
  } catch (const std::exception& e) {
    err << me << e.what() << "\n";
    return nullptr;
  }
}

}  // namespace tme
