"""Human quantities to SI: every dimension family, exact sub-unit conversions, and named errors."""

import math

import numpy as np
import pytest

from offload.errors import ParameterError, UnitError
from offload.units import Dimension, format_quantity, parse_quantity, scale, unit_factor

CASES = [
    ("300kB", Dimension.BITS, 2.4e6), ("2.4Mbit", Dimension.BITS, 2.4e6), ("1MiB", Dimension.BITS, 8 * 1024**2),
    ("12 bits", Dimension.BITS, 12.0), ("3 bytes", Dimension.BITS, 24.0),
    ("20Mbps", Dimension.BPS, 20e6), ("5MB/s", Dimension.BPS, 40e6), ("1 Gbit/s", Dimension.BPS, 1e9),
    ("13s", Dimension.SECONDS, 13.0), ("9ms", Dimension.SECONDS, 0.009), ("9 ms", Dimension.SECONDS, 0.009),
    ("250us", Dimension.SECONDS, 250e-6), ("2min", Dimension.SECONDS, 120.0), ("1h", Dimension.SECONDS, 3600.0),
    ("16.8G", Dimension.OPS, 16.8e9), ("2GFLOP", Dimension.OPS, 2e9), ("500Mcycles", Dimension.OPS, 5e8),
    ("1.5GHz", Dimension.OPS_PER_S, 1.5e9), ("2TFLOPS", Dimension.OPS_PER_S, 2e12), ("3G", Dimension.OPS_PER_S, 3e9),
    ("6.4W", Dimension.WATTS, 6.4), ("500mW", Dimension.WATTS, 0.5),
    ("2J", Dimension.JOULES, 2.0), ("5mWh", Dimension.JOULES, 18.0),
    ("12km", Dimension.METRES, 12e3), ("300m", Dimension.METRES, 300.0),
    ("30/s", Dimension.RATE_PER_S, 30.0), ("10fps", Dimension.RATE_PER_S, 10.0), ("120/min", Dimension.RATE_PER_S, 2.0),
    # the units people type (issue 18): TOPS speeds, hours and days, requests per second, Hz as an arrival rate
    ("26 TOPS", Dimension.OPS_PER_S, 26e12), ("8 GOPS", Dimension.OPS_PER_S, 8e9),
    ("1 hour", Dimension.SECONDS, 3600.0), ("2 hours", Dimension.SECONDS, 7200.0),
    ("1 day", Dimension.SECONDS, 86400.0),
    ("3 minutes", Dimension.SECONDS, 180.0), ("1d", Dimension.SECONDS, 86400.0),
    ("10 req/s", Dimension.RATE_PER_S, 10.0), ("2 Hz", Dimension.RATE_PER_S, 2.0),
    ("1.5kHz", Dimension.RATE_PER_S, 1500.0),
    ("120 tasks/min", Dimension.RATE_PER_S, 2.0), ("36 per hour", Dimension.RATE_PER_S, 0.01),
    ("24/day", Dimension.RATE_PER_S, 24 / 86400), ("7 requests per second", Dimension.RATE_PER_S, 7.0),
    ("0.25", Dimension.DIMENSIONLESS, 0.25), ("1e3", Dimension.SECONDS, 1000.0), (7, Dimension.WATTS, 7.0),
    (2.5, Dimension.BPS, 2.5),
]


@pytest.mark.parametrize(("text", "dimension", "expected"), CASES)
def test_every_unit_family(text, dimension, expected):
    assert parse_quantity(text, dimension) == pytest.approx(expected, rel=1e-15)


def test_sub_units_are_exact():
    # dividing by the reciprocal keeps decimal sub-units exact: 9 ms is the float 0.009
    assert parse_quantity("9ms", Dimension.SECONDS) == 0.009
    assert parse_quantity("20ms", Dimension.SECONDS) == 0.02
    assert parse_quantity("500mW", Dimension.WATTS) == 0.5
    np.testing.assert_array_equal(scale(np.array([9.0, 20.0]), unit_factor("ms", Dimension.SECONDS)), [0.009, 0.02])


@pytest.mark.parametrize(("text", "dimension", "message"), [
    ("5 parsecs", Dimension.METRES,
     r"--x='5 parsecs': unknown unit 'parsecs'; expected a distance such as 12km or 300m$"),
    ("20Mbps", Dimension.BITS, r"'Mbps' is a bandwidth, expected a data size such as 300kB"),
    ("fast", Dimension.BPS, r"expected a number with an optional unit: a bandwidth such as 20Mbps"),
    ("nan", Dimension.SECONDS, "must be a number, not NaN"),
    (math.nan, Dimension.SECONDS, "must be a number, not NaN"),
    (True, Dimension.SECONDS, r"expected a number or a quantity \(a duration such as 9ms"),
    ("1.5GHz", Dimension.OPS, "'GHz' is a speed, expected an amount of work such as 16.8G"),
    ("10/s", Dimension.BPS, "'/s' is a rate, expected a bandwidth such as 20Mbps"),
    ("2 Hz", Dimension.SECONDS, "'Hz' is a speed, expected a duration such as"),
])
def test_errors_name_the_parameter_the_value_and_the_rule(text, dimension, message):
    with pytest.raises(UnitError, match=message) as info:
        parse_quantity(text, dimension, "--x")
    assert isinstance(info.value, ParameterError)
    assert info.value.name == "--x"


def test_no_message_names_an_internal_unit_class():
    for dimension in Dimension:
        for text in ("7 parsecs", "fast", True):
            with pytest.raises(UnitError) as info:
                parse_quantity(text, dimension)
            assert "Dimension" not in str(info.value)
            assert f" in {dimension.value}" not in str(info.value)


def test_a_bare_prefix_is_only_a_multiplier_for_counts_and_rates():
    assert parse_quantity("16.8G", Dimension.OPS) == 16.8e9
    with pytest.raises(UnitError, match="unknown unit 'G'"):
        parse_quantity("3G", Dimension.BITS)


@pytest.mark.parametrize(("value", "dimension", "text"), [
    (2.4e6, Dimension.BPS, "2.4 Mbps"), (0.509, Dimension.SECONDS, "509 ms"), (185028.1, Dimension.BPS, "185 kbps"),
    (0.0, Dimension.JOULES, "0 J"), (math.inf, Dimension.SECONDS, "inf s"), (6.4, Dimension.WATTS, "6.4 W"),
])
def test_format_quantity(value, dimension, text):
    assert format_quantity(value, dimension) == text


def test_round_trip_through_format():
    for value, dimension in ((2.4e6, Dimension.BITS), (0.009, Dimension.SECONDS), (1.5e9, Dimension.OPS_PER_S)):
        text = format_quantity(value, dimension).replace("bit", "b")
        assert parse_quantity(text, dimension) == pytest.approx(value)
