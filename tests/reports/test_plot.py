"""The report's SVG chart kit (harness_reports.plot): round ticks, escaped text, no matplotlib."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from harness_reports import charts, figures, plot
from harness_reports.svg import check_svg


@pytest.mark.parametrize(("lo", "hi", "most", "want"), [
    (0.0, 1.0, 5, [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]),
    (0.0, 1.0, 2, [0.0, 0.5, 1.0]),
    (0.6, 0.85, 5, [0.6, 0.65, 0.7, 0.75, 0.8, 0.85]),
    (-0.5, 44.6, 5, [0.0, 10.0, 20.0, 30.0, 40.0]),
])
def test_ticks_are_round_numbers_inside_the_limits(lo: float, hi: float, most: int, want: list[float]) -> None:
    assert plot.nice_ticks(lo, hi, most) == pytest.approx(want)


def test_symmetric_ticks_straddle_zero() -> None:
    ticks = plot.nice_ticks(-0.01, 0.23, 4, symmetric=True)
    assert ticks[0] == -ticks[-1] and 0.0 in ticks and ticks[-1] >= 0.23


def test_tick_labels_have_the_digits_the_step_needs() -> None:
    assert [plot.tick_label(t, [0.0, 0.25, 0.5]) for t in (0.0, 0.25)] == ["0.00", "0.25"]
    assert plot.tick_label(-0.2, [-0.2, 0.0, 0.2]) == "−0.2"
    assert plot.tick_label(20.0, [0.0, 20.0, 40.0]) == "20"


def test_a_chart_is_well_formed_safe_svg_with_the_text_escaped() -> None:
    name = '<script>alert("x")</script> & $x$'
    curve = charts.Curve(name, charts.Style("#0072B2"), np.linspace(0, 1, 50), np.linspace(0, 1, 50) ** 0.5,
                         "AUC 0.667")
    svg = str(figures.curve_with_points([curve], [figures.OperatingPoint(name, "#0072B2", "p > 0.5", 0.3, 0.6)],
                                        "roc", None, "roc"))
    check_svg(svg.replace("<svg", '<svg xmlns="http://www.w3.org/2000/svg"', 1))
    root = ET.fromstring(svg.replace("<svg", '<svg xmlns="http://www.w3.org/2000/svg"', 1))
    texts = "".join(root.itertext())
    assert name in texts and "AUC 0.667" in texts and "<script" not in svg


def test_rendering_a_report_imports_no_plotting_library(tmp_path) -> None:
    code = ("import numpy as np\nfrom harness_reports import charts\n"
            "p = charts.Reliability('m', charts.Style('#0072B2'), np.linspace(0, 1, 11), np.full(10, 0.5), "
            "np.linspace(0.05, 0.95, 10), np.arange(10), 'ECE 0.1')\ncharts.reliability_chart([p], 'cal')\n"
            "import sys\nprint('matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
