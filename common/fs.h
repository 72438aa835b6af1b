// File helpers: whole-file reads with located errors, atomic writes (temp file + fsync + rename, so a
// reader or a crash never sees half a file), and directory creation.
#pragma once

#include <string>
#include <string_view>

namespace r1 {

// Reads the whole file; throws r1::Error naming the path on failure.
std::string read_file(const std::string& path);

// Writes data to path atomically: path.tmp.<pid> is written, fsync'ed and renamed over path; the
// directory is fsync'ed too. Throws r1::Error naming the path on failure (the temp file is removed).
void write_file_atomic(const std::string& path, std::string_view data);

// mkdir -p; throws r1::Error on failure.
void make_dirs(const std::string& path);

bool path_exists(const std::string& path);
bool is_directory(const std::string& path);

// Joins two path parts with exactly one '/'.
std::string path_join(const std::string& a, const std::string& b);

// fsyncs a directory (after renames inside it); ignores errors on file systems that refuse it.
void fsync_dir(const std::string& dir);

// Renames a directory tree into place atomically: `staging` replaces `target` (the old target, if any,
// is moved aside first and deleted after). Used for checkpoint directories.
void replace_dir_atomic(const std::string& staging, const std::string& target);

// Removes a file or a directory tree; missing paths are not an error.
void remove_all(const std::string& path);

}  // namespace r1
