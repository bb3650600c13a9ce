// The compiled forest engine: a Predictor over a CompiledForest whose
// bitvector trees run on a chosen SIMD target.
//
// PredictRaw is single-threaded (callers parallelise over row blocks), const
// and thread-safe; its sums are bit-identical to ReferencePredictor's.
#pragma once

#include <memory>

#include "common/simd.h"
#include "infer/compiled_forest.h"
#include "infer/predictor.h"

namespace fb {

// Precondition: SimdTargetSupported(target). name() is "compiled-<target>".
std::unique_ptr<Predictor> MakeCompiledPredictor(std::shared_ptr<const Forest> forest, SimdTarget target);
// The same over a forest already compiled (or read from a .fbm's stored
// layout: infer/compiled_io.h).
std::unique_ptr<Predictor> MakeCompiledPredictor(CompiledForest cf, SimdTarget target);

}  // namespace fb
