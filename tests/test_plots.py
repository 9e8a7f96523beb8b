"""House style for cost and scaling plots, rendered off-screen with the Agg backend."""

import math
from datetime import date
from decimal import Decimal

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from helpers import costs, plots  # noqa: E402

DECADES = [10**k for k in range(3, 10)]  # 1k .. 1B requests


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def rendered_tick_labels(axis):
    axis.figure.canvas.draw()
    return [t.get_text() for t in axis.get_ticklabels() if t.get_text()]


def test_cost_curve_is_small_and_labelled_with_units():
    fig = plots.cost_curve(None, [1, 2, 3], {"Lambda": [1, 2, 3]}, "Requests (millions per month)")
    width, height = fig.get_size_inches()
    assert (width, height) == plots.FIGSIZE == (7.0, 4.0)
    assert fig.dpi == plots.DPI == 100
    ax = fig.axes[0]
    assert ax.get_xlabel() == "Requests (millions per month)"
    assert ax.get_ylabel() == "USD per month"


@pytest.mark.parametrize("label", ["Requests", "", "cost"])
def test_labels_without_units_are_refused(label):
    with pytest.raises(ValueError, match=r"must name its unit"):
        plots.cost_curve(None, [1, 2], {"a": [1, 2]}, label)
    with pytest.raises(ValueError, match=r"ylabel must name its unit"):
        plots.cost_curve(None, [1, 2], {"a": [1, 2]}, "Requests (per month)", ylabel=label)


def test_axes_go_log_when_the_data_spans_decades():
    x = DECADES
    fig = plots.cost_curve(None, x, {"Lambda": [n * 2e-6 for n in x]}, "Requests (per month)")
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"


def test_axes_stay_linear_when_the_data_does_not_span_decades():
    fig = plots.cost_curve(None, [1, 2, 5, 10], {"a": [3, 4, 5, 6]}, "Shards (count)")
    ax = fig.axes[0]
    assert ax.get_xscale() == "linear" and ax.get_yscale() == "linear"


@pytest.mark.parametrize(
    ("log", "xscale", "yscale"),
    [
        (False, "linear", "linear"),
        ("x", "log", "linear"),
        ("y", "linear", "log"),
        ("both", "log", "log"),
    ],
)
def test_log_can_be_forced(log, xscale, yscale):
    fig = plots.cost_curve(
        None, DECADES, {"a": [n * 1e-6 for n in DECADES]}, "Requests (per month)", log=log
    )
    ax = fig.axes[0]
    assert (ax.get_xscale(), ax.get_yscale()) == (xscale, yscale)


def test_cost_axis_ticks_read_as_dollars_and_counts_as_k_m_b():
    x = DECADES
    lam = [
        costs.lambda_cost(
            requests=n, duration_ms=100, memory_mb=512, free_tier=False, on=date(2026, 11, 1)
        )
        for n in x
    ]
    fig = plots.cost_curve(None, x, {"Lambda": lam}, "Requests (per month)")
    ax = fig.axes[0]
    assert all(label.startswith("$") for label in rendered_tick_labels(ax.yaxis))
    assert {"1k", "1M", "1B"} <= set(rendered_tick_labels(ax.xaxis))


def test_free_tier_zeros_are_left_off_a_log_axis():
    x = DECADES
    fig = plots.cost_curve(None, x, {"a": [0, 0, 1, 10, 100, 1000, 10_000]}, "Requests (per month)")
    ys = fig.axes[0].lines[0].get_ydata()
    assert math.isnan(ys[0]) and math.isnan(ys[1]) and ys[2] == 1


def test_draws_into_a_given_axes_and_keeps_a_legend_for_several_series():
    fig, ax = plt.subplots()
    returned = plots.cost_curve(ax, [1, 2], {"a": [1, 2], "b": [2, 1]}, "Hours (per month)")
    assert returned is fig
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b"]


def test_find_crossover_interpolates_linearly():
    x = [0, 10, 20, 30]
    a = [0, 20, 40, 60]  # 2x
    b = [10, 20, 30, 40]  # x + 10: equal at 10
    assert plots.find_crossover(x, a, b) == 10
    assert plots.find_crossover([0, 20], [0, 40], [10, 30]) == pytest.approx(10)


def test_find_crossover_interpolates_in_log_space_on_log_axes():
    x = [10, 100, 10_000]
    a = [math.log10(v) for v in x]  # straight on a log-x axis
    b = [3, 3, 3]
    assert plots.find_crossover(x, a, b, log_x=True) == pytest.approx(1000)
    # on log-log axes a power law and a flat line meet where they are equal: 100 * x == 1e6
    x = [10, 100, 100_000]
    flat, power = [1e6] * 3, [100 * v for v in x]
    assert plots.find_crossover(x, power, flat, log_x=True, log_y=True) == pytest.approx(10_000)
    assert plots.find_crossover(x, power, flat) == pytest.approx(100 + 99_900 * 0.99 / 9.99)


def test_find_crossover_ignores_shared_free_tiers_and_parallel_lines():
    # equal (both free) at x=1 and 2; a below b at 3, above at 4: difference -1 then +2
    assert plots.find_crossover([1, 2, 3, 4], [0, 0, 1, 5], [0, 0, 2, 3]) == pytest.approx(
        3 + 1 / 3
    )
    assert plots.find_crossover([1, 2, 3], [1, 2, 3], [2, 3, 4]) is None


def test_annotate_crossover_marks_the_right_x():
    x = DECADES
    lam = [Decimal(n) * Decimal("0.000002") for n in x]  # $2 per million
    flat = [Decimal(30)] * len(x)  # a $30 server
    fig = plots.cost_curve(None, x, {"Lambda": lam, "Server": flat}, "Requests (per month)")
    ax = fig.axes[0]
    hit = plots.annotate_crossover(ax, x, lam, flat, unit="requests")
    assert hit == pytest.approx(15_000_000)  # 30 / 2e-6, exact on log-log axes
    lines = [line for line in ax.lines if line.get_gid() == "crossover"]
    assert len(lines) == 1 and list(lines[0].get_xdata()) == [hit, hit]
    notes = [t.get_text() for t in ax.texts]
    assert notes == ["crossover ≈ 15M requests"]


def test_annotate_crossover_returns_none_and_draws_nothing_without_a_crossing():
    fig = plots.cost_curve(None, [1, 2, 3], {"a": [1, 2, 3], "b": [5, 6, 7]}, "Hours (per month)")
    ax = fig.axes[0]
    assert plots.annotate_crossover(ax, [1, 2, 3], [1, 2, 3], [5, 6, 7]) is None
    assert not ax.texts and len(ax.lines) == 2


def test_style_context_restores_settings():
    before = dict(matplotlib.rcParams)
    with plots.style():
        assert tuple(matplotlib.rcParams["figure.figsize"]) == plots.FIGSIZE
        assert matplotlib.rcParams["axes.spines.top"] is False
    assert dict(matplotlib.rcParams) == before


def test_breakdown_bar_shows_the_paid_line_items():
    breakdown = costs.explain(
        costs.lambda_cost, requests=3_000_000, duration_ms=120, memory_mb=1536, on=date(2026, 11, 1)
    )
    fig = plots.breakdown_bar(None, breakdown)
    ax = fig.axes[0]
    paid = [i for i in breakdown.items if i.amount > 0]
    assert len(ax.patches) == len(paid) == 2
    assert [t.get_text() for t in ax.get_yticklabels()] == [i.dimension for i in paid]
    assert ax.get_xlabel() == "USD per month"
    assert sorted(t.get_text() for t in ax.texts) == ["$0.40", "$2.33"]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "$0"),
        (0.004, "$0.004"),
        (2.5, "$2.50"),
        (10, "$10"),
        (1234.4, "$1,234"),
        (3.4e6, "$3.4M"),
    ],
)
def test_format_usd(value, text):
    assert plots.format_usd(value) == text


@pytest.mark.parametrize(
    ("value", "text"), [(950, "950"), (12_000, "12k"), (3.4e6, "3.4M"), (2.1e9, "2.1B")]
)
def test_format_quantity(value, text):
    assert plots.format_quantity(value) == text


def test_style_restores_its_own_settings_and_keeps_what_the_figures_changed():
    """The inline backend turns interactive mode on when the first figure loads it; a style
    block that undid that would stop every later figure of the notebook from showing."""
    import matplotlib as mpl

    before = mpl.is_interactive()
    grid = mpl.rcParams["axes.grid"]
    try:
        with plots.style():
            assert mpl.rcParams["figure.figsize"] == [7.0, 4.0]
            mpl.interactive(not before)  # what loading a backend may do inside the block
        assert mpl.is_interactive() is (not before)
        assert mpl.rcParams["axes.grid"] == grid
    finally:
        mpl.interactive(before)
