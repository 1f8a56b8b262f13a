#include "host/io/run_dir.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include "host/core/version.hpp"
#include "host/scene/quantity.hpp"
#include "host/scene/units.hpp"

namespace fs = std::filesystem;

namespace tme {
namespace {

std::string quoted(const fs::path& p) { return "'" + p.string() + "'"; }

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

// True when the components of `a` are a prefix of those of `b` (both canonical).
bool is_prefix(const fs::path& a, const fs::path& b) {
  auto ia = a.begin(), ib = b.begin();
  for (; ia != a.end(); ++ia, ++ib)
    if (ib == b.end() || *ia != *ib) return false;
  return true;
}

// `p` with trailing separators dropped ("runs/x/" -> "runs/x"; "/" stays "/").
fs::path strip_trailing_separators(fs::path p) {
  while (!p.empty() && p.filename().empty() && p != p.parent_path()) p = p.parent_path();
  return p;
}

// Why `dir` is never replaced whatever it holds; empty when it is not one of those.
std::string protected_reason(const fs::path& dir, const fs::path& cwd, const fs::path& home) {
  const fs::path d = strip_trailing_separators(dir);
  if (d.empty()) return "the path is empty";
  if (d.filename() == "." || d.filename() == "..") return "'.' and '..' are never replaced";
  const fs::path abs = d.is_absolute() ? d : cwd / d;
  std::error_code ec;
  const fs::path c = fs::weakly_canonical(abs, ec);
  if (ec) return "cannot resolve the path (" + ec.message() + ")";
  if (c == c.root_path()) return "it is the root directory";
  if (!home.empty()) {
    const fs::path h = fs::weakly_canonical(home, ec);
    if (!ec && c == h) return "it is the home directory";
  }
  const fs::path w = fs::weakly_canonical(cwd, ec);
  if (!ec && is_prefix(c, w)) return c == w ? "it is the current directory" : "it contains the current directory";
  return {};
}

// Why `dir` may not be replaced (the reason only), or empty.
std::string refusal_reason(const fs::path& dir, RunDirKind kind, const fs::path& cwd, const fs::path& home) {
  std::string why = protected_reason(dir, cwd, home);
  if (!why.empty()) return why;
  const fs::path d = strip_trailing_separators(dir);
  const fs::path abs = d.is_absolute() ? d : cwd / d;
  std::error_code ec;
  const fs::file_status st = fs::symlink_status(abs, ec);
  if (!fs::exists(st)) return "it does not exist";
  if (fs::is_symlink(st)) return "it is a symbolic link (only a run directory itself is replaced, never a link to one)";
  if (!fs::is_directory(st)) return "it is not a directory";
  const fs::path marker = abs / kRunMarker;
  std::string first;
  if (fs::is_regular_file(fs::symlink_status(marker, ec))) {
    std::ifstream in(marker);
    std::getline(in, first);
  }
  if (first != kRunMarkerHeader) return std::string("it was not made by tmesim (no ") + kRunMarker + " marker inside)";
  if (kind == RunDirKind::kFinished && !fs::is_regular_file(fs::symlink_status(abs / "provenance.json", ec)))
    return "it holds no provenance.json (not a finished tmesim run)";
  return {};
}

std::string describe(const RunOwner& o) {
  if (o.pid <= 0) return "another run";
  std::string s = "another run (pid " + std::to_string(o.pid);
  if (!o.started.empty()) s += ", started " + o.started;
  if (!o.host.empty()) s += " on " + o.host;
  return s + ")";
}

// Opens `dir`'s marker without following a link and tries to lock it. Returns the open
// descriptor (locked) or -1 with `busy` telling whether another process holds the lock.
int lock_marker(const fs::path& dir, bool& busy) {
  busy = false;
  const int fd = ::open((dir / kRunMarker).c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return -1;
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    busy = errno == EWOULDBLOCK;
    ::close(fd);
    return -1;
  }
  return fd;
}

// Whether the open descriptor is the file that `dir`'s marker names now.
bool same_marker(int fd, const fs::path& dir) {
  struct stat a, b;
  if (::fstat(fd, &a) != 0 || ::lstat((dir / kRunMarker).c_str(), &b) != 0) return false;
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

// A new empty directory "<base><tag>-<pid>-<n>" beside `base` (mode 0777 less the umask,
// like any directory the run makes, since the fresh work directory becomes the run's).
fs::path unique_sibling(const fs::path& base, const std::string& tag) {
  for (unsigned n = 0;; ++n) {
    const fs::path p = base.string() + tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(n);
    if (::mkdir(p.c_str(), 0777) == 0) return p;
    if (errno != EEXIST || n > 1000)
      throw std::runtime_error("cannot create a directory beside " + quoted(base) + ": " + std::strerror(errno));
  }
}

// rename(2) that does not replace an existing `to` where the system supports it (a directory
// built by a run is never empty, so plain rename could only replace an empty one).
int rename_no_replace(const fs::path& from, const fs::path& to) {
#ifdef RENAME_NOREPLACE
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return 0;
  if (errno != EINVAL && errno != ENOSYS) return -1;
#endif
  return ::rename(from.c_str(), to.c_str());
}

}  // namespace

std::string disk_full_message(const fs::path& path, int err) {
  const std::string msg = "no space left on device: " + path.string();
  if (err == ENOSPC || err == EDQUOT) return msg;
  fs::path dir = path.parent_path();
  if (dir.empty()) dir = ".";
  struct statvfs v;
  if (::statvfs(dir.c_str(), &v) == 0 && v.f_bavail == 0) return msg;
  return {};
}

void write_text_atomic(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".tmp";
  auto fail = [&](const std::string& what, int err) {
    std::error_code ec;
    fs::remove(tmp, ec);
    const std::string full = disk_full_message(path, err);
    throw std::runtime_error(
        !full.empty() ? full : path.string() + ": " + what + (err ? std::string(" (") + std::strerror(err) + ")" : ""));
  };
  {
    errno = 0;
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) fail("cannot open for writing", errno);
    out << text;
    out.flush();
    if (!out) fail("write failed", errno);
    out.close();
    if (!out) fail("write failed", errno);
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw std::runtime_error(path.string() + ": cannot rename temporary file (" + ec.message() + ")");
  }
}

bool is_plain_file_name(const std::string& s) {
  if (s.empty() || s.size() > 200 || s == "." || s == "..") return false;
  for (const char c : s) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

fs::path default_run_path(const std::string& name) {
  if (!is_plain_file_name(name))
    throw std::runtime_error("scene name '" + name + "' cannot name a run directory (expected " + kRunNameRule + ")");
  return fs::path("runs") / name;
}

std::string replace_refusal(const fs::path& dir, RunDirKind kind, const fs::path& cwd, const fs::path& home) {
  const std::string why = refusal_reason(dir, kind, cwd, home);
  return why.empty() ? why : "refusing to replace " + quoted(dir) + ": " + why;
}

ProtectedDirs ProtectedDirs::of_process() {
  ProtectedDirs p;
  p.cwd = fs::current_path();
  if (const char* h = std::getenv("HOME"); h && *h) {
    p.home = h;
  } else if (const passwd* pw = ::getpwuid(::getuid()); pw && pw->pw_dir) {
    p.home = pw->pw_dir;
  }
  return p;
}

RunOwner read_run_owner(const fs::path& dir) {
  RunOwner o;
  std::ifstream in(dir / kRunMarker);
  std::string line;
  if (!std::getline(in, line) || line != kRunMarkerHeader) return o;
  while (std::getline(in, line)) {
    const auto colon = line.find(": ");
    if (colon == std::string::npos) continue;
    const std::string key = line.substr(0, colon), value = line.substr(colon + 2);
    if (key == "pid")
      o.pid = std::atoll(value.c_str());
    else if (key == "started")
      o.started = value;
    else if (key == "host")
      o.host = value;
  }
  return o;
}

RunDirectory::RunDirectory(fs::path final_dir, bool force)
    : RunDirectory(std::move(final_dir), force, ProtectedDirs::of_process()) {}

RunDirectory::RunDirectory(fs::path final_dir, bool force, ProtectedDirs protect)
    : final_(strip_trailing_separators(std::move(final_dir))), force_(force), protect_(std::move(protect)) {
  if (final_.empty()) throw std::runtime_error("empty output directory name");
  std::error_code ec;
  if (fs::exists(fs::symlink_status(final_, ec))) {
    const std::string why = refusal_reason(fs::absolute(final_), RunDirKind::kFinished, protect_.cwd, protect_.home);
    if (!why.empty())
      throw std::runtime_error("output directory " + quoted(final_) +
                               " exists and is not replaced, not even with --force: " + why +
                               "; choose another with -o");
    if (!force_)
      throw std::runtime_error("output directory " + quoted(final_) +
                               " exists (use --force to replace it, or -o to choose another)");
  } else if (const std::string why = protected_reason(fs::absolute(final_), protect_.cwd, protect_.home);
             !why.empty()) {
    throw std::runtime_error("refusing to write a run to " + quoted(final_) + ": " + why);
  }
  work_ = final_.string() + ".incomplete";
  if (final_.has_parent_path()) {
    fs::create_directories(final_.parent_path(), ec);
    if (ec) throw std::runtime_error("cannot create " + quoted(final_.parent_path()) + ": " + ec.message());
  }
  acquire_work();
}

RunDirectory::RunDirectory(fs::path work_dir, Resume)
    : work_(strip_trailing_separators(std::move(work_dir))), force_(false), protect_(ProtectedDirs::of_process()) {
  const std::string suffix = ".incomplete", w = work_.string();
  auto refuse = [&](const std::string& why) {
    throw std::runtime_error("cannot resume " + quoted(work_) + ": " + why);
  };
  if (w.size() <= suffix.size() || w.compare(w.size() - suffix.size(), suffix.size(), suffix) != 0)
    refuse("not a directory left by an unfinished run (its name does not end in .incomplete)");
  final_ = w.substr(0, w.size() - suffix.size());
  const std::string why = refusal_reason(fs::absolute(work_), RunDirKind::kIncomplete, protect_.cwd, protect_.home);
  if (!why.empty()) refuse(why);
  std::error_code ec;
  if (fs::exists(fs::symlink_status(final_, ec)))
    refuse(quoted(final_) + " exists (a finished run of the same name; move it away first)");
  bool busy = false;
  const int fd = lock_marker(work_, busy);
  if (fd < 0)
    refuse(busy ? describe(read_run_owner(work_)) + " is writing to it" : std::string("its marker cannot be opened"));
  lock_fd_ = fd;
}

RunDirectory::~RunDirectory() {
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

void RunDirectory::acquire_work() {
  // Stale directories renamed aside, removed once the new one is in place; each keeps its
  // locked marker open until then.
  std::vector<std::pair<fs::path, int>> stale;
  const std::function<void()> drop_stale = [&] {
    for (auto& [path, fd] : stale) {
      if (same_marker(fd, path) &&
          refusal_reason(fs::absolute(path), RunDirKind::kIncomplete, protect_.cwd, protect_.home).empty()) {
        std::error_code ec;
        fs::remove_all(path, ec);
      }
      ::close(fd);
    }
    stale.clear();
  };
  struct AtExit {
    const std::function<void()>& f;
    ~AtExit() { f(); }
  };
  const AtExit at_exit{drop_stale};  // also when an exception leaves
  for (int attempt = 0; attempt < 8; ++attempt) {
    std::error_code ec;
    if (fs::exists(fs::symlink_status(work_, ec))) {
      // Someone's directory: ours only when marked, and replaced only when nobody holds it.
      const std::string why = refusal_reason(fs::absolute(work_), RunDirKind::kIncomplete, protect_.cwd, protect_.home);
      if (!why.empty()) {
        throw std::runtime_error("refusing to use " + quoted(work_) + ": " + why +
                                 "; move it away or choose another output directory with -o");
      }
      bool busy = false;
      const int fd = lock_marker(work_, busy);
      if (fd < 0) {
        if (!busy) continue;  // the marker went away meanwhile: look again
        throw std::runtime_error(describe(read_run_owner(work_)) + " is writing to " + quoted(work_) +
                                 "; wait for it to end or choose another output directory with -o");
      }
      if (!same_marker(fd, work_)) {  // replaced between open and lock: look again
        ::close(fd);
        continue;
      }
      // Stale (left by a run that ended without committing): move it aside.
      const fs::path aside = unique_sibling(work_, ".stale");
      if (::rename(work_.c_str(), aside.c_str()) != 0) {
        const int err = errno;
        ::close(fd);
        fs::remove(aside, ec);
        throw std::runtime_error("cannot move the stale " + quoted(work_) + " aside: " + std::strerror(err));
      }
      stale.emplace_back(aside, fd);
      continue;
    }
    // Build the new directory under a private name with its locked marker, then rename it
    // into place: another process never sees it unmarked or unlocked.
    const fs::path fresh = unique_sibling(work_, ".new");
    const fs::path marker = fresh / kRunMarker;
    const int fd = ::open(marker.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0 || ::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      if (fd >= 0) ::close(fd);
      fs::remove(marker, ec);
      fs::remove(fresh, ec);
      throw std::runtime_error("cannot create " + quoted(marker) + ": " + std::strerror(err));
    }
    char host[256] = "";
    ::gethostname(host, sizeof host - 1);
    std::ostringstream text;
    text << kRunMarkerHeader << "\npid: " << ::getpid() << "\nstarted: " << utc_now() << "\nhost: " << host
         << "\nversion: " << version() << "\n";
    const std::string t = text.str();
    const ssize_t wrote = ::write(fd, t.data(), t.size());
    const int werr = errno;
    if (wrote != (ssize_t)t.size() || rename_no_replace(fresh, work_) != 0) {
      const int err = wrote != (ssize_t)t.size() ? werr : errno;
      ::close(fd);
      fs::remove(marker, ec);
      fs::remove(fresh, ec);
      if (err == EEXIST || err == ENOTEMPTY) continue;  // another run was quicker: look again
      const std::string full = disk_full_message(work_, err);
      throw std::runtime_error(!full.empty() ? full : "cannot create " + quoted(work_) + ": " + std::strerror(err));
    }
    lock_fd_ = fd;
    return;
  }
  throw std::runtime_error("cannot take " + quoted(work_) + ": it kept changing while being examined");
}

void RunDirectory::commit() {
  std::error_code ec;
  fs::path old;  // the replaced run, renamed aside
  int old_fd = -1;
  if (fs::exists(fs::symlink_status(final_, ec))) {
    if (!force_) throw std::runtime_error("output directory " + quoted(final_) + " appeared during the run");
    const std::string why = refusal_reason(fs::absolute(final_), RunDirKind::kFinished, protect_.cwd, protect_.home);
    if (!why.empty()) throw std::runtime_error("refusing to replace " + quoted(final_) + ": " + why);
    bool busy = false;
    old_fd = lock_marker(final_, busy);
    if (old_fd < 0 || !same_marker(old_fd, final_)) {
      if (old_fd >= 0) ::close(old_fd);
      throw std::runtime_error("refusing to replace " + quoted(final_) + ": " +
                               (busy ? describe(read_run_owner(final_)) + " holds it" : "its marker changed"));
    }
    old = unique_sibling(final_, ".replaced");
    if (::rename(final_.c_str(), old.c_str()) != 0) {
      const int err = errno;
      ::close(old_fd);
      fs::remove(old, ec);
      throw std::runtime_error("cannot move " + quoted(final_) + " aside: " + std::strerror(err));
    }
  }
  if (rename_no_replace(work_, final_) != 0) {
    const int err = errno;
    if (!old.empty()) ::rename(old.c_str(), final_.c_str());  // put the old run back
    if (old_fd >= 0) ::close(old_fd);
    throw std::runtime_error("cannot rename " + quoted(work_) + " to " + quoted(final_) + ": " + std::strerror(err));
  }
  if (!old.empty()) {
    const std::string why = same_marker(old_fd, old)
                                ? refusal_reason(fs::absolute(old), RunDirKind::kFinished, protect_.cwd, protect_.home)
                                : "its marker changed";
    if (why.empty()) fs::remove_all(old, ec);
    if (!why.empty() || ec)
      warning_ = "the replaced run was left in " + quoted(old) + " (" + (why.empty() ? ec.message() : why) + ")";
    ::close(old_fd);
  }
  ::close(lock_fd_);
  lock_fd_ = -1;
}

std::string RunDirectory::partial_output_note() const {
  std::error_code ec;
  return fs::is_directory(fs::symlink_status(work_, ec)) ? "partial output left in " + work_.string() + "\n" : "";
}

TotalUnit total_unit(const std::string& unit) {
  static const UnitSystem units;  // read once (UDUNITS' XML database); const use only
  const double um3_in_mm3 = 1e-9;
  auto amount = [&](const std::string& name) -> TotalUnit {
    // [name/um^3] per [unit]: the integral [unit * um^3] times it is in [name].
    return {name, units.to("1 " + unit, "(" + name + ")/um^3")};
  };
  const size_t slash = unit.rfind('/');
  if (slash != std::string::npos && unit.find_first_of("()") == std::string::npos) {
    const std::string num = trim_blanks(unit.substr(0, slash)), den = trim_blanks(unit.substr(slash + 1));
    if (!num.empty() && units.parses(num) && units.convertible(den, "m^3")) return amount(num);
  }
  if (unit.size() > 1 && unit.back() == 'M' && units.convertible(unit, "mol/m^3")) {
    const std::string mol = unit.substr(0, unit.size() - 1) + "mol";
    if (units.convertible(mol, "mol")) return amount(mol);
  }
  return {unit == "1" ? "mm^3" : unit + " mm^3", um3_in_mm3};
}

std::vector<TotalUnit> total_units(const Problem& p) {
  std::vector<TotalUnit> t;
  for (const auto& sp : p.species) t.push_back(total_unit(sp.unit));
  return t;
}

double burden_total(const std::vector<std::vector<Stats>>& stats, const std::vector<TotalUnit>& totals,
                    const std::vector<int>& burden, size_t scope) {
  double b = 0;
  for (int s : burden) b += stats.at(s).at(scope).total * totals.at(s).factor;
  return b;
}

std::string observables_header(const Problem& p, const std::vector<TotalUnit>& totals, bool dose) {
  std::ostringstream h;
  h << "time_s";
  std::vector<std::string> scopes{"grid"};
  for (const auto& r : p.regions) scopes.push_back(r.name);
  for (size_t s = 0; s < p.species.size(); ++s)
    for (const auto& r : scopes) {
      const std::string col = p.species[s].name + "." + r + ".";
      const std::string& u = p.species[s].unit;
      h << ',' << col << "total [" << totals.at(s).name << "]," << col << "mean [" << u << "]," << col << "min [" << u
        << "]," << col << "max [" << u << ']';
    }
  if (dose)
    for (const char* q : {"dose", "BED", "EQD2"})
      for (const auto& r : scopes)
        for (const char* stat : {"mean", "min", "max"}) h << ',' << q << '.' << r << '.' << stat << " [Gy]";
  if (!p.model.burden.empty())
    for (size_t r = 0; r < scopes.size(); ++r) h << ",burden" << (r ? "." + scopes[r] : std::string()) << " [cells]";
  h << '\n';
  return h.str();
}

std::string observables_row(double t, const std::vector<std::vector<Stats>>& stats,
                            const std::vector<TotalUnit>& totals, const std::vector<std::vector<Stats>>& dose,
                            const std::vector<int>& burden) {
  std::ostringstream row;
  row.precision(9);
  row << t;
  for (size_t s = 0; s < stats.size(); ++s)
    for (const Stats& x : stats[s])
      row << ',' << x.total * totals.at(s).factor << ',' << x.mean << ',' << x.min << ',' << x.max;
  for (const auto& q : dose)
    for (const Stats& x : q) row << ',' << x.mean << ',' << x.min << ',' << x.max;
  if (!burden.empty())
    for (size_t r = 0; r < stats.at(0).size(); ++r) row << ',' << burden_total(stats, totals, burden, r);
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
