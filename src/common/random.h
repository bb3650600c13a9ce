// RandomBits: 64 unpredictable bits, for names that must not collide
// between processes and hosts (temporary files, job ids, claim and lease
// tokens), from the kernel's getrandom(2). Not std::random_device: each one
// libstdc++ constructs probes the CPU (cpuid) before its first value, and a
// cpuid costs about 5 us on a virtual machine (an exit to the hypervisor), so
// one per temporary file was a measurable part of a small file's cost in
// `run` (BENCHMARKS.md, session 11). Falls back to std::random_device only
// where getrandom fails (a kernel before 3.17, or its pool not yet
// initialised at boot).
//
// Thread safety: safe from any thread.
#pragma once

#include <cstdint>
#include <string>

namespace fb {

uint64_t RandomBits();

// 2 * bytes lowercase hex digits of random bits.
std::string RandomHex(int bytes);

}  // namespace fb
