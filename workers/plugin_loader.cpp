#include "workers/plugin_loader.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <cstring>
#include <system_error>

namespace zswarm::workers {

Plugin::Plugin(std::string name, std::filesystem::path path, void* handle,
               const zswarm_worker_plugin* table)
    : name_(std::move(name)), path_(std::move(path)), handle_(handle) {
  std::memcpy(&table_, table, std::min<std::size_t>(table->struct_size, sizeof table_));
  table_.struct_size = static_cast<uint32_t>(sizeof table_);
}

Plugin::~Plugin() {
  if (handle_ != nullptr) dlclose(handle_);
}

PluginLoader::PluginLoader(std::vector<std::filesystem::path> search_path)
    : search_path_(std::move(search_path)) {}

std::string PluginLoader::file_name(std::string_view name) {
  return "libzswarm_" + std::string(name) + ".so";
}

bool PluginLoader::valid_name(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::vector<std::filesystem::path> PluginLoader::parse_search_path(std::string_view s) {
  std::vector<std::filesystem::path> dirs;
  while (!s.empty()) {
    auto colon = s.find(':');
    auto part = s.substr(0, colon);
    if (!part.empty()) dirs.emplace_back(std::string(part));
    if (colon == std::string_view::npos) break;
    s.remove_prefix(colon + 1);
  }
  return dirs;
}

Result<PluginPtr> PluginLoader::load(std::string_view name) {
  if (!valid_name(name)) {
    return make_error(Errc::invalid_name, "bad plugin name '" + std::string(name) + "'");
  }
  // Held across dlopen so two threads never load the same plugin twice.
  port::MutexLock lock(mu_);
  if (auto it = cache_.find(name); it != cache_.end()) return it->second;

  std::string file = file_name(name);
  std::string searched;
  for (const auto& dir : search_path_) {
    std::error_code ec;
    auto candidate = dir / file;
    if (std::filesystem::is_regular_file(candidate, ec)) {
      auto loaded = load_file(candidate, name);
      if (loaded) cache_.emplace(std::string(name), loaded.value());
      return loaded;
    }
    if (!searched.empty()) searched += ", ";
    searched += dir.string();
  }
  return make_error(Errc::plugin_not_found,
                    "no " + file + " in [" + searched + "]");
}

Result<PluginPtr> PluginLoader::load_file(const std::filesystem::path& file,
                                          std::string_view expected_name) {
  // dlerror state is per thread; clear it so the message is ours.
  dlerror();
  void* handle = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    return make_error(Errc::dlopen_failed,
                      file.string() + ": " + (why != nullptr ? why : "unknown dlopen error"));
  }
  // From here every failure must dlclose.
  auto reject = [&](Errc code, std::string detail) {
    dlclose(handle);
    return make_error(code, file.string() + ": " + detail);
  };
  dlerror();
  void* sym = dlsym(handle, ZSWARM_WORKER_ENTRY);
  if (sym == nullptr) {
    const char* why = dlerror();
    return reject(Errc::symbol_missing,
                  std::string("no entry symbol " ZSWARM_WORKER_ENTRY) +
                      (why != nullptr ? std::string(" (") + why + ")" : std::string()));
  }
  auto entry = reinterpret_cast<zswarm_worker_entry_fn>(sym);
  const zswarm_worker_plugin* table = entry();
  if (table == nullptr) return reject(Errc::invalid_plugin, "entry returned NULL");
  if (table->abi_version != ZSWARM_WORKER_ABI_VERSION) {
    return reject(Errc::abi_mismatch,
                  "abi_version " + std::to_string(table->abi_version) + ", host speaks " +
                      std::to_string(ZSWARM_WORKER_ABI_VERSION));
  }
  // Larger is fine: a newer minor revision appended fields we do not read.
  // Revision 1 (no merge_conflict) is smaller and still loads.
  if (table->struct_size < ZSWARM_WORKER_PLUGIN_SIZE_V1) {
    return reject(Errc::struct_size_mismatch,
                  "struct_size " + std::to_string(table->struct_size) + " < " +
                      std::to_string(ZSWARM_WORKER_PLUGIN_SIZE_V1));
  }
  if (table->name == nullptr || table->init == nullptr || table->handle == nullptr) {
    return reject(Errc::invalid_plugin, "name, init and handle are required");
  }
  std::string name = table->name;
  if (!expected_name.empty() && name != expected_name) {
    return reject(Errc::invalid_plugin,
                  "declares name '" + name + "', expected '" + std::string(expected_name) + "'");
  }
  return PluginPtr(std::make_shared<Plugin>(std::move(name), file, handle, table));
}

}  // namespace zswarm::workers
