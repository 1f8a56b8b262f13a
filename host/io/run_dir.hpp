// The run directory: built under "<dir>.incomplete" and renamed to <dir> when the run
// succeeds; every file inside is written to a temporary name and renamed.
//
// Ownership rules (what a run may remove):
//  * A run directory is marked by a file ".tmesim-run" (kRunMarker), written before anything
//    else; a finished one also holds provenance.json. Only a marked directory is ever
//    removed or replaced, and only after replace_refusal() says it may be.
//  * ".", "..", "/", the home directory and the current directory or any directory above it
//    are never replaced, marker or not (symbolic links to them neither).
//  * The marker of "<dir>.incomplete" is locked (flock, exclusive) for the whole run and
//    records the process id and start time, so a second run to the same directory is
//    refused while the first is alive, and a directory left by a killed run (marker present,
//    lock free) is recognised as stale and replaced.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "host/core/observables.hpp"

namespace tme {

// Write `text` to path + ".tmp", then rename onto path. Throws std::runtime_error; a full
// disk reads "no space left on device: <path>".
void write_text_atomic(const std::filesystem::path& path, const std::string& text);

// "no space left on device: <path>" when `err` (an errno value) says the device or quota is
// full, or when the file system holding `path` has no free block left; empty otherwise.
std::string disk_full_message(const std::filesystem::path& path, int err);

// File name of the marker, and the first line of its content.
inline constexpr const char* kRunMarker = ".tmesim-run";
inline constexpr const char* kRunMarkerHeader = "tmesim run directory";

// A scene name becomes the directory runs/<name>, so it must be a plain file name.
inline constexpr const char* kRunNameRule =
    "a plain file name (letters, digits, '.', '_' and '-'; not '.' or '..'; at most 200 "
    "characters), e.g. quickstart";
bool is_plain_file_name(const std::string& s);

// runs/<name>; throws std::runtime_error when `name` is not a plain file name.
std::filesystem::path default_run_path(const std::string& name);

// A finished run directory holds the marker and provenance.json; one being built (or left by
// a killed run) holds the marker.
enum class RunDirKind { kFinished, kIncomplete };

// Why `dir` must not be removed and replaced by a run; empty when it may be. A relative `dir`
// is taken relative to `cwd`; `cwd` (absolute) and `home` (may be empty) are the current and
// home directory of the process, parameters so that tests can use their own. Symbolic links
// are resolved before comparing, so a link to a protected directory is refused too. The text
// is a sentence naming the path: "refusing to replace '<dir>': <why>".
std::string replace_refusal(const std::filesystem::path& dir, RunDirKind kind, const std::filesystem::path& cwd,
                            const std::filesystem::path& home);

// The directories a run never replaces, for this process: current_path() and $HOME (or the
// password database's home when HOME is unset).
struct ProtectedDirs {
  std::filesystem::path cwd, home;
  static ProtectedDirs of_process();
};

// What a run directory's marker says about the run that made it.
struct RunOwner {
  long long pid = 0;
  std::string started, host;
};
// Reads `<dir>/.tmesim-run`; pid 0 when absent or unreadable.
RunOwner read_run_owner(const std::filesystem::path& dir);

class RunDirectory {
 public:
  // Creates "<final_dir>.incomplete" holding a locked marker. Refuses (std::runtime_error
  // with a message naming the path and the reason) when final_dir exists and !force, when
  // final_dir exists, force is set and replace_refusal() refuses it, when another run holds
  // "<final_dir>.incomplete", or when that directory exists without a marker. A stale one
  // (marker present, lock free) is replaced.
  RunDirectory(std::filesystem::path final_dir, bool force);
  RunDirectory(std::filesystem::path final_dir, bool force, ProtectedDirs protect);
  // Takes over `work_dir`, a "<final_dir>.incomplete" left by a killed run (tmesim run
  // --resume): locks its marker and keeps what it holds. Throws std::runtime_error ("cannot
  // resume '<dir>': <why>") when the name does not end in ".incomplete", when it is not a
  // marked run directory, when another run holds it, or when <final_dir> exists.
  struct Resume {};
  RunDirectory(std::filesystem::path work_dir, Resume);
  ~RunDirectory();
  RunDirectory(const RunDirectory&) = delete;
  RunDirectory& operator=(const RunDirectory&) = delete;

  const std::filesystem::path& work() const { return work_; }  // where files go meanwhile
  const std::filesystem::path& final_path() const { return final_; }
  // Move the finished directory into place. With force, an existing final directory that
  // replace_refusal() accepts is renamed aside, the new one renamed into place, then the old
  // one removed. Releases the lock.
  void commit();
  // Set by commit() when the replaced old run could not be removed (the new run is in place).
  const std::string& warning() const { return warning_; }
  // "partial output left in <work>\n" while the work directory exists, else "".
  std::string partial_output_note() const;

 private:
  void acquire_work();
  std::filesystem::path final_, work_;
  bool force_;
  ProtectedDirs protect_;
  int lock_fd_ = -1;
  std::string warning_;
};

// The unit a species' total (its integral over a scope's volume) is reported in, and the
// factor from the internal integral [species unit * um^3] to it:
//   an amount per volume ("cells/mm^3", "ng/mL", "1/mm^3"): the amount (cells, ng, 1);
//   molar ("nM", "uM"): moles with the same prefix (nmol, umol);
//   anything else ("mmHg", "1"): the unit times mm^3 ("mmHg mm^3", "mm^3").
struct TotalUnit {
  std::string name;
  double factor = 1;  // [name] per [species unit * um^3]
};
TotalUnit total_unit(const std::string& species_unit);
std::vector<TotalUnit> total_units(const Problem& p);

// Observables CSV: "time_s" then per species and scope "<species>.<scope>.<stat> [unit]" for
// stat in total (in total_unit), mean, min, max (species unit); scope "grid" is the whole grid,
// then each observed region. With `dose`, then "<q>.<scope>.<stat> [Gy]" for q in dose, BED,
// EQD2 (cumulative physical dose and its LQ equivalents) and stat in mean, min, max. When the
// model names a tumour burden (Model::burden), last "burden [cells]" (the whole grid) and
// "burden.<region> [cells]" per observed region: the sum of the burden populations' totals.
std::string observables_header(const Problem& p, const std::vector<TotalUnit>& totals, bool dose);
// stats: compute_observables; dose: empty, or scope_stats of dose, BED and EQD2 (3 entries);
// burden: Model::burden (empty: no burden columns).
std::string observables_row(double t, const std::vector<std::vector<Stats>>& stats,
                            const std::vector<TotalUnit>& totals, const std::vector<std::vector<Stats>>& dose,
                            const std::vector<int>& burden = {});
// The tumour burden [cells] of scope `scope` (0: the whole grid, 1 + r: region r): the sum of
// the totals of the fields `burden` in their total units.
double burden_total(const std::vector<std::vector<Stats>>& stats, const std::vector<TotalUnit>& totals,
                    const std::vector<int>& burden, size_t scope);

// JSON string literal with escapes.
std::string json_quote(const std::string& s);

}  // namespace tme
