"""numpy / ml_dtypes interop of the golden model: ml_dtypes arrays in, ml_dtypes arrays out
(``output="ml_dtypes"``), ``fmt.ml_dtype``, and ``golden.matmul`` checked against numpy's
float64 matmul of the ml_dtypes-decoded operands (exact there, see below)."""
import ml_dtypes
import numpy as np
import pytest

from macforge import golden

ML_TYPES = ["float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e3m4",
            "float8_e4m3", "float8_e4m3b11fnuz", "float6_e2m3fn", "float6_e3m2fn",
            "float4_e2m1fn", "float8_e8m0fnu", "bfloat16"]


@pytest.mark.parametrize("name", ML_TYPES)
def test_ml_dtype_is_the_type_of_the_same_name(name):
    f = golden.parse(name)
    dt = np.dtype(getattr(ml_dtypes, name))
    assert f.ml_dtype == dt and f.dtype == golden.storage_dtype(f.bits)   # codes stay unsigned
    codes = f.codes() if f.bits <= 16 else None
    vals = f.as_ml_dtype(codes)                  # the same bits, read by ml_dtypes
    assert vals.dtype == dt
    with np.errstate(invalid="ignore"):    # signalling-NaN patterns widen quietly
        ref = vals.astype(np.float64)
    ours = f.decode(codes)
    assert np.array_equal(np.isnan(ref), np.isnan(ours))
    ok = ~np.isnan(ref)
    assert np.array_equal(ref[ok], ours[ok]) and np.array_equal(np.signbit(ref[ok]), np.signbit(ours[ok]))
    assert np.array_equal(f.check_codes(vals), codes)        # and back to codes, unchanged


def test_numpy_types_and_formats_without_one():
    assert golden.parse("fp16").ml_dtype == np.float16 and golden.parse("fp32").ml_dtype == np.float32
    for name in ("posit8", "int8", "lns8", "hif8", "takum8", "mxfp8", "tf32", "e4m3b8"):
        assert golden.parse(name).ml_dtype is None, name
    with pytest.raises(golden.FormatError, match=r"^posit8 has no ml_dtypes type; output='ml_dtypes' is for .*$"):
        golden.mul(np.uint8([0x40]), np.uint8([0x40]), "posit8", output="ml_dtypes")
    with pytest.raises(golden.FormatError, match=r"^unknown output 'float'; accepted: codes, ml_dtypes$"):
        golden.mul(np.uint8([0x40]), np.uint8([0x40]), "e4m3", output="float")
    with pytest.raises(golden.FormatError, match=r"^e4m3fn: codes must be integers \(bit patterns\), "
                       r"not float32; pass codes \(golden.parse\('e4m3fn'\).encode\(x\)\) or an array of float8_e4m3fn$"):
        golden.mul(np.float32([1.0]), np.uint8([0x38]), "e4m3")


def test_operations_take_and_give_ml_dtypes_arrays():
    rng = np.random.default_rng(20)
    a = rng.integers(0, 256, 4096).astype(np.uint8)
    b = rng.integers(0, 256, 4096).astype(np.uint8)
    e4m3 = golden.parse("e4m3")
    av, bv = a.view(ml_dtypes.float8_e4m3fn), b.view(ml_dtypes.float8_e4m3fn)
    for op, args, out in [(golden.mul, ("e4m3", "e4m3"), "e4m3"), (golden.mul, ("e4m3", "fp32"), "fp32"),
                          (golden.add, ("e4m3", "bf16"), "bf16")]:
        codes = op(a, b, *args)
        got = op(av, bv, *args, output="ml_dtypes")
        assert got.dtype == golden.parse(out).ml_dtype
        assert np.array_equal(got.view(golden.parse(out).dtype), codes)
    c = golden.parse("fp32").encode(rng.normal(size=4096))
    assert np.array_equal(golden.fma(av, bv, c.view(np.float32), e4m3, "fp32", output="ml_dtypes").view(np.uint32),
                          golden.fma(a, b, c, e4m3, "fp32"))
    # ml_dtypes itself as the reference for the 8-bit product (exact in float32, one rounding)
    fin = ~np.isnan(av.astype(np.float32)) & ~np.isnan(bv.astype(np.float32))
    ref = (av.astype(np.float32) * bv.astype(np.float32)).astype(ml_dtypes.float8_e4m3fn)
    got = golden.mul(av, bv, "e4m3", output="ml_dtypes")
    r64, g64 = ref.astype(np.float64)[fin], got.astype(np.float64)[fin]
    assert fin.sum() > 3900 and np.array_equal(np.isnan(r64), np.isnan(g64))
    assert np.array_equal(r64[~np.isnan(r64)], g64[~np.isnan(g64)])


@pytest.mark.parametrize("fmt,acc,shape", [("e4m3", "fp32", ((3, 5, 4), (4, 6))),
                                           ("e5m2", "fp32", ((2, 7), (7, 3))),
                                           ("e2m1", "bf16", ((2, 1, 4, 8), (3, 8, 2)))])
def test_matmul_against_numpy(fmt, acc, shape):
    """K <= 8 products of 8-bit formats sum exactly in float64 (every partial sum is a multiple
    of the smallest product and below 2^40), so numpy's float64 matmul of the ml_dtypes values,
    cast once to the accumulator, is an independent reference for the one rounding."""
    rng = np.random.default_rng(8)
    f, fc = golden.parse(fmt), golden.parse(acc)
    finite = f.codes()[~np.isnan(f.decode(f.codes())) & ~np.isinf(f.decode(f.codes()))]
    A = rng.choice(finite, shape[0])
    B = rng.choice(finite, shape[1])
    C = golden.matmul(A.view(f.ml_dtype), B, f, fc, output="ml_dtypes")
    ref = (np.matmul(f.as_ml_dtype(A).astype(np.float64), f.as_ml_dtype(B).astype(np.float64))
           .astype(fc.ml_dtype))
    assert C.shape == ref.shape == np.broadcast_shapes(shape[0][:-2], shape[1][:-2]) + (shape[0][-2], shape[1][-1])
    assert C.dtype == fc.ml_dtype and C.size > 5
    nz = ref.astype(np.float64) != 0          # numpy's sum starts at +0: compare zeros by value
    assert np.array_equal(C.view(fc.dtype)[nz], ref.view(fc.dtype)[nz])
    assert np.all(C.astype(np.float64)[~nz] == 0)
    # each element is golden.dot of a row and a column
    i, j = 1, 0
    row = A[(0,) * (A.ndim - 2) + (i,)] if A.ndim > 2 else A[i]
    col = (B[(0,) * (B.ndim - 2)] if B.ndim > 2 else B)[:, j]
    assert golden.dot(row, col, fc.additive_identity, f, fc) == C.view(fc.dtype)[(0,) * (C.ndim - 2) + (i, j)]


def test_matmul_preset_and_shape_errors():
    e4m3, fp32 = golden.parse("e4m3"), golden.parse("fp32")
    rng = np.random.default_rng(1)
    A = e4m3.encode(rng.normal(size=(2, 64)))
    B = e4m3.encode(rng.normal(size=(64, 3)))
    C = golden.matmul(A, B, e4m3, fp32, preset="h100-fp8")
    for i in range(2):
        for j in range(3):
            assert C[i, j] == golden.dot(A[i], B[:, j], fp32.additive_identity, e4m3, fp32, preset="h100-fp8")
    with pytest.raises(ValueError, match=r"^matmul needs A \(\.\.\., M, K\) and B \(\.\.\., K, N\), not \(2, 64\) and \(3, 64\)$"):
        golden.matmul(A, B.T, e4m3, fp32)
