// Stand-in for libFuzzer's main() when the compiler has no libFuzzer: feeds
// the target a fixed-seed stream of random and mutated inputs, so every
// decoder meets garbage on every test run. argv[1]: number of inputs.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
// Targets may offer valid seed inputs to mutate; weak so it is optional.
extern "C" __attribute__((weak)) size_t zswarm_fuzz_seeds(std::vector<std::vector<uint8_t>>* out);

// `--write-seeds DIR` writes the seeds as files (a corpus for libFuzzer runs).
static int write_seeds(const char* dir) {
  std::vector<std::vector<uint8_t>> seeds;
  if (zswarm_fuzz_seeds) zswarm_fuzz_seeds(&seeds);
  for (std::size_t i = 0; i < seeds.size(); ++i) {
    std::string path = std::string(dir) + "/seed-" + std::to_string(i);
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) {
      std::perror(path.c_str());
      return 1;
    }
    std::fwrite(seeds[i].data(), 1, seeds[i].size(), f);
    std::fclose(f);
  }
  std::printf("wrote %zu seeds to %s\n", seeds.size(), dir);
  return 0;
}

int main(int argc, char** argv) {
  if (argc > 2 && std::string(argv[1]) == "--write-seeds") return write_seeds(argv[2]);
  long rounds = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 10000;
  std::mt19937_64 rng(0x5eed);
  std::vector<std::vector<uint8_t>> seeds;
  if (zswarm_fuzz_seeds) zswarm_fuzz_seeds(&seeds);
  if (seeds.empty()) seeds.push_back({});
  for (const auto& s : seeds) LLVMFuzzerTestOneInput(s.data(), s.size());
  for (long i = 0; i < rounds; ++i) {
    std::vector<uint8_t> in = seeds[rng() % seeds.size()];
    switch (rng() % 4) {
      case 0: {  // pure noise
        in.resize(rng() % 300);
        for (auto& b : in) b = static_cast<uint8_t>(rng());
        break;
      }
      case 1:  // truncate
        if (!in.empty()) in.resize(rng() % in.size());
        break;
      default: {  // flip a few bytes
        if (in.empty()) in.push_back(0);
        int flips = 1 + static_cast<int>(rng() % 4);
        for (int f = 0; f < flips; ++f) in[rng() % in.size()] = static_cast<uint8_t>(rng());
      }
    }
    LLVMFuzzerTestOneInput(in.data(), in.size());
  }
  std::printf("fuzz driver: %ld inputs, no crash\n", rounds + static_cast<long>(seeds.size()));
  return 0;
}
