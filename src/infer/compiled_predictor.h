// The compiled forest engine: a Predictor over a CompiledForest whose
// bitvector trees run on a chosen SIMD target.
//
// PredictRaw is single-threaded (callers parallelise over row blocks), const
// and thread-safe; its sums are bit-identical to ReferencePredictor's.
#pragma once

#include <memory>

#include "common/simd.h"
#include "infer/predictor.h"

namespace fb {

// Precondition: SimdTargetSupported(target). name() is "compiled-<target>".
std::unique_ptr<Predictor> MakeCompiledPredictor(std::shared_ptr<const Forest> forest, SimdTarget target);

}  // namespace fb
