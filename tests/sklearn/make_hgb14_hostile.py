#!/usr/bin/python3
"""Hostile variants of a real scikit-learn 1.4.2 HistGradientBoosting model
with a _preprocessor (sklearn14/hgb/hgb-clf-categorical.pkl), for
sklearn_hgb_test. scikit-learn 1.4 is not installed here, so the pickle is
edited opcode by opcode (pickletools) and re-framed, never loaded:

  partial-other-function.pkl  the numerical FunctionTransformer's
                              functools.partial names
                              sklearn.utils.validation.check_X_y instead of
                              check_array (refused: exit 4, naming it)
  mask-length.pkl             the categorical column mask (also the
                              estimator's is_categorical_) has 5 entries for
                              4 columns (refused: exit 3)

    /usr/bin/python3 tests/sklearn/make_hgb14_hostile.py [OUT_DIR]
writes them to OUT_DIR (default tests/sklearn/sklearn14/hgb/hostile/; make
check-fixtures compares them byte for byte).
"""
import io
import os
import pickletools
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "sklearn14", "hgb", "hgb-clf-categorical.pkl")
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "sklearn14", "hgb", "hostile")


def rewrite(data, edit):
    """Re-emits the opcodes of `data` (FRAME dropped), letting edit(i, ops)
    replace opcode i by a list of (opcode name, argument) pairs."""
    ops = list(pickletools.genops(data))
    out = io.BytesIO()
    for i, (op, arg, pos) in enumerate(ops):
        if op.name == "FRAME":
            continue
        repl = edit(i, ops)
        if repl is None:
            end = ops[i + 1][2] if i + 1 < len(ops) else len(data)
            out.write(data[pos:end])
            continue
        for name, value in repl:
            out.write(encode(name, value))
    # pickletools.optimize re-frames a protocol-4 pickle.
    return pickletools.optimize(out.getvalue())


def encode(name, value):
    if name == "SHORT_BINUNICODE":
        b = value.encode()
        return b"\x8c" + bytes([len(b)]) + b
    if name == "SHORT_BINBYTES":
        return b"C" + bytes([len(value)]) + value
    if name == "BININT1":
        return b"K" + bytes([value])
    raise ValueError(name)


def main():
    os.makedirs(OUT, exist_ok=True)
    data = open(SRC, "rb").read()

    def other_function(i, ops):
        op, arg, _ = ops[i]
        if op.name == "SHORT_BINUNICODE" and arg == "check_array":
            return [("SHORT_BINUNICODE", "check_X_y")]
        return None

    bad = rewrite(data, other_function)
    assert b"check_array" not in bad and b"check_X_y" in bad

    # The first bool array is is_categorical_, the same object (memo) as the
    # encoder's column mask: its shape (4,) -> (5,) and one more byte. In the
    # array's state tuple (1, (4,), dtype('b1'), False, bytes) the shape is
    # the BININT1 4 after the BININT1 1 that precede the 'b1' dtype.
    ops = list(pickletools.genops(data))
    b1 = next(i for i, (op, arg, _) in enumerate(ops) if op.name == "SHORT_BINUNICODE" and arg == "b1")
    shape_at = max(i for i in range(b1) if ops[i][0].name == "BININT1" and ops[i][1] == 4
                   and ops[i - 1][0].name == "BININT1" and ops[i - 1][1] == 1)
    bytes_at = next(i for i in range(b1, len(ops)) if ops[i][0].name == "SHORT_BINBYTES")
    assert ops[bytes_at][1] == b"\x00\x01\x00\x01", ops[bytes_at]

    def mask_length(i, ops_):
        if i == shape_at:
            return [("BININT1", 5)]
        if i == bytes_at:
            return [("SHORT_BINBYTES", b"\x00\x01\x00\x01\x00")]
        return None

    bad2 = rewrite(data, mask_length)
    for name, b in [("partial-other-function.pkl", bad), ("mask-length.pkl", bad2)]:
        pickletools.dis(b, out=io.StringIO())  # a well-formed pickle stream
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(b)

if __name__ == "__main__":
    main()
