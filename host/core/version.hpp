#pragma once
namespace tme {
const char* version();   // tmesim version, e.g. "0.1.0"
const char* git_hash();  // short hash of the source tree's HEAD, or "unknown"
bool git_dirty();        // true when tracked files differed from HEAD at build time
}  // namespace tme
