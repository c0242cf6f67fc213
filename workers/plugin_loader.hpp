// PluginLoader: finds a worker plugin by NAME along a search path, dlopens it
// (RTLD_NOW | RTLD_LOCAL), validates the versioned C table and caches it.
//
// File naming: plugin "counter" is the file "libzswarm_counter.so" in one of
// the search directories (first match wins). Every failure is an Error value
// (plugin_not_found lists the directories searched); the process is never
// harmed by a bad plugin file. A loaded library stays loaded while a Plugin
// handle refers to it. Thread-safe: load() may be called from any thread.
#pragma once

#include "port/mutex.hpp"

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <zswarm/worker.h>

#include "workers/error.hpp"

namespace zswarm::workers {

// A validated, loaded plugin. Immutable; the library is dlclosed when the
// last handle goes.
class Plugin {
 public:
  Plugin(std::string name, std::filesystem::path path, void* handle,
         const zswarm_worker_plugin* table);
  ~Plugin();
  Plugin(const Plugin&) = delete;
  Plugin& operator=(const Plugin&) = delete;

  const std::string& name() const { return name_; }
  const std::filesystem::path& path() const { return path_; }
  // The plugin's table, copied: fields an older revision lacks read as NULL.
  const zswarm_worker_plugin& table() const { return table_; }

 private:
  std::string name_;
  std::filesystem::path path_;
  void* handle_;
  zswarm_worker_plugin table_{};
};

using PluginPtr = std::shared_ptr<const Plugin>;

class PluginLoader {
 public:
  explicit PluginLoader(std::vector<std::filesystem::path> search_path);

  // Loads (or returns the cached) plugin `name`. Names are [A-Za-z0-9_-]+.
  Result<PluginPtr> load(std::string_view name);
  // Loads one file directly (not cached by name); `expected_name` empty = any.
  Result<PluginPtr> load_file(const std::filesystem::path& file,
                              std::string_view expected_name = {});

  const std::vector<std::filesystem::path>& search_path() const { return search_path_; }
  // "libzswarm_<name>.so"
  static std::string file_name(std::string_view name);
  // Splits "a:b:c" (PATH style) into directories, dropping empty entries.
  static std::vector<std::filesystem::path> parse_search_path(std::string_view s);
  static bool valid_name(std::string_view name);

 private:
  const std::vector<std::filesystem::path> search_path_;
  port::Mutex mu_;
  std::map<std::string, PluginPtr, std::less<>> cache_ GUARDED_BY(mu_);
};

}  // namespace zswarm::workers
