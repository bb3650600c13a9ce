// The compiled layout stored in a .fbm file (format 1.5): CompileForest's
// runs and arrays written as the file's optional layout sections (ids from
// kFirstLayoutSection, model/forest.h; byte layout in docs/formats/fbm.md),
// and read back as views of the file's mapping instead of compiling again.
//
// A stored layout is used only when its compiler fingerprint is this build's
// (kLayoutFingerprint: the layout version and every constant and record size
// the arrays depend on); any other fingerprint, or no layout at all, means
// compiling from the forest's own sections, which every .fbm keeps. A layout
// with this build's fingerprint is untrusted input like the rest of the
// file: every index is checked against the invariants CompileForest
// establishes (runs covering the trees in order, every group, tree, slot,
// node and leaf range inside its array, tree structures well formed, columns
// inside the tile, ...), so that no kernel reads outside an array or loops;
// a layout that fails is refused with an error naming the file and section.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "infer/compiled_forest.h"
#include "model/forest.h"

namespace fb {

// Bump kLayoutVersion whenever CompileForest's rules or the meaning of any
// stored field change; the constants and record sizes are folded in below.
inline constexpr uint32_t kLayoutVersion = 1;
uint32_t LayoutFingerprint();

// The layout sections of `cf` (which CompileForest built for the forest
// being written), for SerializeNativeModel.
std::vector<std::pair<uint32_t, std::string>> EncodeLayoutSections(const CompiledForest& cf);

// forest->stored_layout as a CompiledForest whose arrays are views of the
// stored bytes. nullopt: no stored layout, or one of another fingerprint
// (the caller compiles). An error: a layout of this fingerprint that does not
// hold (corrupt or hostile), naming the file and the section.
Result<std::optional<CompiledForest>> ReadStoredLayout(std::shared_ptr<const Forest> forest);

// The stored layout when there is a usable one, else CompileForest.
Result<CompiledForest> CompiledForestFor(std::shared_ptr<const Forest> forest);

}  // namespace fb
