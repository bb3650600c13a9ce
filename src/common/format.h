// Number formatting as Python prints it, so outputs match pandas' to_csv and
// json.dumps: shortest round-trip digits, "1.0" for integral floats,
// "nan"/"inf" spelled as Python does.
#pragma once

#include <cstdint>
#include <string>

namespace fb {

// Appends repr(float(v)) as Python writes it (e.g. 0.1, 1.0, 1e-05, 1e+16, nan, inf).
void AppendPythonFloat(std::string* out, double v);
std::string PythonFloat(double v);

}  // namespace fb
