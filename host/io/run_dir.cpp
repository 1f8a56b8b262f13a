#include "host/io/run_dir.hpp"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>

namespace fs = std::filesystem;

namespace tme {

void write_text_atomic(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error(path.string() + ": cannot open for writing");
    out << text;
    out.flush();
    if (!out) {
      std::error_code ec;
      fs::remove(tmp, ec);
      throw std::runtime_error(path.string() + ": write failed");
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw std::runtime_error(path.string() + ": cannot rename temporary file (" + ec.message() + ")");
  }
}

RunDirectory::RunDirectory(fs::path final_dir, bool force) : final_(std::move(final_dir)), force_(force) {
  if (final_.empty()) throw std::runtime_error("empty output directory name");
  if (final_.filename().empty()) final_ = final_.parent_path();  // "runs/x/" -> "runs/x"
  if (fs::exists(final_) && !force_)
    throw std::runtime_error("output directory '" + final_.string() +
                             "' exists (use --force to replace it, or -o to choose another)");
  work_ = final_.string() + ".incomplete";
  std::error_code ec;
  fs::remove_all(work_, ec);
  fs::create_directories(work_, ec);
  if (ec) throw std::runtime_error("cannot create '" + work_.string() + "': " + ec.message());
}

void RunDirectory::commit() {
  std::error_code ec;
  if (fs::exists(final_)) {
    if (!force_) throw std::runtime_error("output directory '" + final_.string() + "' appeared during the run");
    fs::remove_all(final_, ec);
    if (ec) throw std::runtime_error("cannot remove '" + final_.string() + "': " + ec.message());
  }
  fs::rename(work_, final_, ec);
  if (ec) throw std::runtime_error("cannot rename '" + work_.string() + "' to '" + final_.string() + "': " + ec.message());
}

std::string observables_header(const Problem& p) {
  std::ostringstream h;
  h << "time_s";
  for (const auto& sp : p.species) {
    std::vector<std::string> regions{"grid"};
    for (const auto& r : p.regions) regions.push_back(r.name);
    for (const auto& r : regions)
      for (const char* stat : {"total", "mean", "min", "max"}) h << ',' << sp.name << '.' << r << '.' << stat;
  }
  h << '\n';
  return h.str();
}

std::string observables_row(double t, const std::vector<std::vector<Stats>>& stats) {
  std::ostringstream row;
  row.precision(9);
  row << t;
  for (const auto& per_species : stats)
    for (const Stats& s : per_species) row << ',' << s.total << ',' << s.mean << ',' << s.min << ',' << s.max;
  row << '\n';
  return row.str();
}

std::string json_quote(const std::string& s) {
  std::string o = "\"";
  for (const char c : s) {
    switch (c) {
      case '"': o += "\\\""; break;
      case '\\': o += "\\\\"; break;
      case '\n': o += "\\n"; break;
      case '\t': o += "\\t"; break;
      case '\r': o += "\\r"; break;
      default:
        if ((unsigned char)c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          o += buf;
        } else {
          o += c;
        }
    }
  }
  return o + "\"";
}

}  // namespace tme
