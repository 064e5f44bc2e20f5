"""Running-sum statistics (``error-stats --unit running-sum``): RNE stalls, SR with enough
random bits stays unbiased; the reference sum is exact; the CLI reports both."""
import pytest

from macforge import golden
from macforge.golden import FormatError


def test_rne_stalls_and_sr_is_unbiased():
    """bf16 (8-bit significand), 1024 addends in [0, 1): from 256 on the half ulp (1) exceeds
    every addend, so RNE stops there, of an exact ~512 (bias < -0.4); SR with R = 16 is unbiased
    within 4 standard errors at every checkpoint, with a spread that grows."""
    rne = golden.running_sum_stats("bf16", "rne", steps=1024, trials=100, seed=3)
    sr = golden.running_sum_stats("bf16", "sr", steps=1024, trials=100, seed=3, rnd_bits=16)
    t, exact, bias, std, se = rne.checkpoints[-1]
    assert t == 1024 and 480 < exact < 540 and bias < -0.4
    assert [c[0] for c in sr.checkpoints] == [64, 256, 1024]
    for t, exact, bias, std, se in sr.checkpoints:
        assert abs(bias) < 4 * se, (t, bias, se)
    assert sr.checkpoints[-1][3] > sr.checkpoints[0][3]


def test_sr_with_few_random_bits_is_biased():
    """R random bits see the discarded fraction truncated to R bits: once the addends fall
    below 2^-R ulp of the sum they never round up (bf16 from 256: ulp 2, so with R = 2 an
    addend below 0.5 never moves the sum); the bias is then many standard errors."""
    sr2 = golden.running_sum_stats("bf16", "sr", steps=1024, trials=100, seed=3, rnd_bits=2)
    t, exact, bias, std, se = sr2.checkpoints[-1]
    assert bias < -10 * se


def test_running_sum_errors():
    with pytest.raises(FormatError, match=r"^steps must be a positive integer, not 0$"):
        golden.running_sum_stats("bf16", steps=0)


def test_cli_running_sum(capsys):
    from macforge.cli import main
    assert main(["error-stats", "--unit", "running-sum", "--format", "bf16", "--steps", "100",
                 "-n", "20", "--sr-bits", "12"]) == 0
    out = capsys.readouterr().out
    assert "running sum in bf16, rne: 20 sums of 100 addends" in out
    assert "running sum in bf16, sr (R = 12)" in out
    assert main(["error-stats", "--unit", "running-sum", "--format", "bf16", "--sr-bits",
                 "40"]) == 2                          # one line, status 2
    assert "sr-bits must be a comma list of integers 1..32, not '40'" in capsys.readouterr().err
