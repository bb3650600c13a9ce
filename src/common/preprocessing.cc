#include "common/preprocessing.h"

#include <algorithm>
#include <cmath>

#include "common/format.h"

namespace fb {

int32_t PrepCategories::Find(double v) const {
  if (std::isnan(v)) return missing;
  auto it = by_number.find(v == 0.0 ? 0.0 : v);
  return it == by_number.end() ? -1 : it->second;
}

int32_t PrepCategories::Find(std::string_view t, bool is_missing) const {
  if (is_missing) return missing;
  auto it = by_text.find(std::string(t));
  return it == by_text.end() ? -1 : it->second;
}

Status Preprocessing::Validate(int32_t n_features) const {
  const int32_t ns = n_slots();
  if (inputs.empty()) return InvalidData("preprocessing: no raw input columns");
  std::vector<uint8_t> written(ns, 0);
  for (const PrepInput& in : inputs) {
    if (in.slot < 0 || in.slot >= ns || written[in.slot]++)
      return InvalidData("preprocessing: bad input slot");
    if (slot_text[in.slot] != in.text) return InvalidData("preprocessing: input kinds disagree");
    if (!by_name && (in.position < 0 || in.position >= n_positions))
      return InvalidData("preprocessing: input position out of range");
  }
  if (static_cast<int32_t>(outputs.size()) != n_features) {
    return InvalidData("preprocessing makes " + std::to_string(outputs.size()) +
                       " features but the model has " + std::to_string(n_features));
  }
  // Straight line: every op reads a slot already written and writes new ones.
  for (const PrepOp& op : ops) {
    if (op.src < 0 || op.src >= ns || !written[op.src] || op.width < 1 || op.dst < 0 ||
        op.dst + op.width > ns)
      return InvalidData("preprocessing: an op's slots are out of order");
    for (int32_t k = 0; k < op.width; ++k)
      if (written[op.dst + k]++) return InvalidData("preprocessing: a slot is written twice");
    const bool in_text = slot_text[op.src];
    for (int32_t k = 0; k < op.width; ++k) {
      const bool out_text = slot_text[op.dst + k];
      if (out_text && !(op.kind == PrepOpKind::kImpute && in_text))
        return InvalidData("preprocessing: an op writes text where it cannot");
    }
    switch (op.kind) {
      case PrepOpKind::kImpute:
        if (op.width != 1 || slot_text[op.dst] != in_text)
          return InvalidData("preprocessing: bad imputer op");
        break;
      case PrepOpKind::kIndicator:
        if (op.width != 1) return InvalidData("preprocessing: bad indicator op");
        break;
      case PrepOpKind::kSubDiv:
      case PrepOpKind::kMul:
      case PrepOpKind::kMulAdd:
        if (op.width != 1 || in_text) return InvalidData("preprocessing: a scaler reads text");
        break;
      case PrepOpKind::kOneHot:
      case PrepOpKind::kOrdinal: {
        if (op.table < 0 || op.table >= static_cast<int32_t>(tables.size()))
          return InvalidData("preprocessing: an encoder has no categories");
        const PrepCategories& t = tables[op.table];
        if (t.text != in_text)
          return InvalidData("preprocessing: an encoder's categories and input disagree");
        if (t.missing < -1 || t.missing >= t.size) return InvalidData("preprocessing: bad missing category");
        for (const auto& [k, v] : t.by_text)
          if (v < 0 || v >= t.size) return InvalidData("preprocessing: bad category position");
        for (const auto& [k, v] : t.by_number)
          if (v < 0 || v >= t.size) return InvalidData("preprocessing: bad category position");
        if (op.kind == PrepOpKind::kOneHot) {
          if (static_cast<int32_t>(op.outputs.size()) != t.size)
            return InvalidData("preprocessing: one-hot outputs and categories disagree");
          for (int32_t o : op.outputs)
            if (o < -1 || o >= op.width) return InvalidData("preprocessing: one-hot output out of range");
          if (op.unknown_output < -1 || op.unknown_output >= op.width)
            return InvalidData("preprocessing: one-hot output out of range");
        } else if (op.width != 1 || static_cast<int32_t>(op.values.size()) != t.size) {
          return InvalidData("preprocessing: ordinal values and categories disagree");
        }
        break;
      }
    }
  }
  for (int32_t s : outputs)
    if (s < 0 || s >= ns || slot_text[s] || !written[s])
      return InvalidData("preprocessing: a feature is not a number slot");
  return Status::Ok();
}

void Preprocessing::Prepare(PrepRow* row) const {
  const size_t ns = slot_text.size();
  row->num.assign(ns, 0.0);
  row->text.assign(ns, std::string_view());
  row->missing.assign(ns, 0);
  row->owned.resize(inputs.size());
}

namespace {

bool IsMissing(const PrepMissing& m, const PrepRow& r, int32_t s, bool text) {
  if (text) return r.missing[s] ? m.nan : (!m.nan && r.text[s] == m.text);
  const double v = r.num[s];
  return m.nan ? std::isnan(v) : v == m.number;
}

Status Unknown(const PrepOp& op, const PrepRow& r, bool text) {
  std::string shown;
  if (text) {
    shown = "'" + std::string(r.text[op.src].substr(0, 40)) + (r.text[op.src].size() > 40 ? "...'" : "'");
    if (r.missing[op.src]) shown = "a missing value";
  } else {
    shown = std::isnan(r.num[op.src]) ? "a missing value" : PythonFloat(r.num[op.src]);
  }
  return InvalidData("unknown category " + shown + " in " + op.what +
                     ", which was fitted with handle_unknown='error'");
}

// scikit-learn's transformers check their input with
// force_all_finite="allow-nan": +-inf is an error (the one identity step,
// HistGradientBoosting's FunctionTransformer(partial(check_array,
// force_all_finite=False)), compiles to no op and lets it through).
Status Infinite(const PrepOp& op, double v) {
  return InvalidData(std::string("Input X contains infinity or a value too large for dtype('float64'): ") +
                     (v > 0 ? "inf" : "-inf") + " in " +
                     (op.what.empty() ? std::string("a column the model's preprocessing reads") : op.what));
}

}  // namespace

Status Preprocessing::Run(PrepRow* row, float* out, const std::vector<Float64Feature>* float64) const {
  PrepRow& r = *row;
  for (const PrepOp& op : ops) {
    const bool text = slot_text[op.src];
    if (!text && std::isinf(r.num[op.src])) return Infinite(op, r.num[op.src]);
    switch (op.kind) {
      case PrepOpKind::kImpute:
        if (text) {
          const bool m = IsMissing(op.missing, r, op.src, true);
          r.text[op.dst] = m ? std::string_view(op.fill_text) : r.text[op.src];
          r.missing[op.dst] = 0;
          if (!m) r.missing[op.dst] = r.missing[op.src];
        } else {
          r.num[op.dst] = IsMissing(op.missing, r, op.src, false) ? op.fill_number : r.num[op.src];
        }
        break;
      case PrepOpKind::kIndicator: r.num[op.dst] = IsMissing(op.missing, r, op.src, text) ? 1.0 : 0.0; break;
      case PrepOpKind::kSubDiv: {
        const double d = r.num[op.src] - op.a;
        r.num[op.dst] = d / op.b;
        break;
      }
      case PrepOpKind::kMul: r.num[op.dst] = r.num[op.src] * op.a; break;
      case PrepOpKind::kMulAdd: {
        const double m = r.num[op.src] * op.a;
        double v = m + op.b;
        // np.clip: NaN stays NaN.
        if (op.clip && !std::isnan(v)) v = std::min(std::max(v, op.lo), op.hi);
        r.num[op.dst] = v;
        break;
      }
      case PrepOpKind::kOneHot: {
        const PrepCategories& t = tables[op.table];
        const int32_t k = text ? t.Find(r.text[op.src], r.missing[op.src]) : t.Find(r.num[op.src]);
        if (k < 0 && op.unknown_is_error) return Unknown(op, r, text);
        const int32_t o = k < 0 ? op.unknown_output : op.outputs[k];
        std::fill(r.num.begin() + op.dst, r.num.begin() + op.dst + op.width, 0.0);
        if (o >= 0) r.num[op.dst + o] = 1.0;
        break;
      }
      case PrepOpKind::kOrdinal: {
        const PrepCategories& t = tables[op.table];
        const int32_t k = text ? t.Find(r.text[op.src], r.missing[op.src]) : t.Find(r.num[op.src]);
        if (k < 0 && op.unknown_is_error) return Unknown(op, r, text);
        r.num[op.dst] = k < 0 ? op.unknown_value : op.values[k];
        break;
      }
    }
  }
  if (float64 != nullptr) {
    for (size_t f = 0; f < outputs.size(); ++f)
      out[f] = Float64FeatureValue((*float64)[f], r.num[outputs[f]]);
  } else {
    for (size_t f = 0; f < outputs.size(); ++f) out[f] = static_cast<float>(r.num[outputs[f]]);
  }
  return Status::Ok();
}

}  // namespace fb
