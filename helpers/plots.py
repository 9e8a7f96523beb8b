"""House style for cost and scaling plots: log axes across decades, units on every label.

Every architecture notebook draws its cost and scaling figures with these few functions so they
look alike and stay readable at notebook width (7 x 4 in at 100 dpi):

- :func:`style` — a context with the house rcParams;
- :func:`cost_curve` — one line per option against a usage axis, log-scaled where the data spans
  decades, dollars on the y axis;
- :func:`annotate_crossover` / :func:`find_crossover` — where one option becomes cheaper;
- :func:`breakdown_bar` — the line items of a :func:`helpers.costs.explain` breakdown.

Axis labels must carry their unit, in parentheses or as "per ...": ``"Requests (per month)"``,
``"USD per month"``. The module knows no AWS backend, picks no matplotlib backend and never calls ``show()``;
in a notebook assign the figure (``fig = cost_curve(...)``) so it is drawn once.
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

import matplotlib as mpl
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

__all__ = [
    "DPI",
    "FIGSIZE",
    "annotate_crossover",
    "breakdown_bar",
    "cost_curve",
    "find_crossover",
    "format_quantity",
    "format_usd",
    "spans_decades",
    "style",
]

FIGSIZE = (7.0, 4.0)
DPI = 100
DECADES_FOR_LOG = 2

_RC: dict[str, Any] = {
    "figure.figsize": FIGSIZE,
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
    "figure.constrained_layout.use": True,
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "lines.linewidth": 2.0,
    "lines.markersize": 4,
}

_UNIT = re.compile(r"\(.+\)|\bper\b|\bUSD\b|\$", re.IGNORECASE)


@contextlib.contextmanager
def style() -> Iterator[None]:
    """Apply the house style (size, fonts, grid) to figures drawn inside the block.

    Only the house style's own settings are put back afterwards: the first figure of a notebook
    loads the inline backend, which turns interactive mode on, and undoing that (as
    `matplotlib.rc_context` would) stops every later figure from showing."""
    saved = {key: mpl.rcParams[key] for key in _RC}
    mpl.rcParams.update(_RC)
    try:
        yield
    finally:
        mpl.rcParams.update(saved)


def _new_axes() -> Axes:
    # pyplot is imported here, not at module import: the notebook's backend (inline) or the
    # tests' (Agg) is chosen by then, and importing helpers.plots starts no GUI.
    import matplotlib.pyplot as plt

    figure = plt.figure(figsize=FIGSIZE, dpi=DPI, layout="constrained")
    return figure.add_subplot()


def _floats(values: Sequence[Any]) -> list[float]:
    return [float(v) if v is not None else math.nan for v in values]


def spans_decades(values: Sequence[Any], decades: int = DECADES_FOR_LOG) -> bool:
    """True when the positive values span at least ``decades`` powers of ten."""
    positive = [v for v in _floats(values) if v > 0 and math.isfinite(v)]
    return bool(positive) and max(positive) / min(positive) >= 10**decades


def format_usd(value: float, _pos: object = None) -> str:
    """Dollar tick label: ``$0``, ``$0.004``, ``$2.50``, ``$1,200``, ``$3.4M``."""
    if value == 0:
        return "$0"
    size = abs(value)
    sign = "-" if value < 0 else ""
    if size >= 1e6:
        return f"{sign}${size / 1e6:,.3g}M"
    if size >= 100 or (size >= 1 and size == round(size)):
        return f"{sign}${size:,.0f}"
    if size >= 0.01:
        return f"{sign}${size:,.2f}"
    return f"{sign}${size:.2g}"


def format_quantity(value: float, _pos: object = None) -> str:
    """Compact count for ticks and notes: ``950``, ``12k``, ``3.4M``, ``2.1B``."""
    size = abs(value)
    for limit, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if size >= limit:
            return f"{value / limit:.3g}{suffix}"
    return f"{value:.3g}"


def _require_unit(name: str, label: str) -> None:
    if not label or not _UNIT.search(label):
        raise ValueError(
            f"{name} must name its unit, in parentheses or as 'per ...' "
            f"(e.g. 'Requests (per month)'); got {label!r}"
        )


def _scales(log: bool | str, x: Sequence[float], ys: list[float]) -> tuple[bool, bool]:
    if log is True:
        return spans_decades(x), spans_decades(ys)
    if log is False:
        return False, False
    if log not in ("x", "y", "both"):
        raise ValueError(f"log must be True (auto), False, 'x', 'y' or 'both' (got {log!r})")
    return log in ("x", "both"), log in ("y", "both")


def cost_curve(
    ax: Axes | None,
    x: Sequence[Any],
    series: Mapping[str, Sequence[Any]],
    xlabel: str,
    ylabel: str = "USD per month",
    log: bool | str = True,
    title: str | None = None,
) -> Figure:
    """Draw one line per option against usage ``x`` and return the figure.

    ``log=True`` puts an axis on a log scale when its data spans two decades or more; ``False``
    keeps both linear; ``'x'``, ``'y'`` or ``'both'`` force it. Zero or negative costs are left out
    of a log-scaled y axis (a free tier shows as the line starting later).
    """
    _require_unit("xlabel", xlabel)
    _require_unit("ylabel", ylabel)
    xs = _floats(x)
    if not xs:
        raise ValueError("x must hold at least one value")
    for name, ys in series.items():
        if len(ys) != len(xs):
            raise ValueError(f"series {name!r} has {len(ys)} values; x has {len(xs)}")
    with style():
        if ax is None:
            ax = _new_axes()
        all_y = [v for ys in series.values() for v in _floats(ys)]
        log_x, log_y = _scales(log, xs, all_y)
        for name, ys in series.items():
            values = _floats(ys)
            if log_y:
                values = [v if v > 0 else math.nan for v in values]
            ax.plot(xs, values, label=name, marker="o" if len(xs) <= 12 else None)
        if log_x:
            ax.set_xscale("log")
        if log_y:
            ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        if re.search(r"USD|\$", ylabel):
            ax.yaxis.set_major_formatter(FuncFormatter(format_usd))
        if log_x:
            ax.xaxis.set_major_formatter(FuncFormatter(format_quantity))
        if title:
            ax.set_title(title)
        if len(series) > 1:
            ax.legend(frameon=False)
    return ax.figure


def find_crossover(
    x: Sequence[Any],
    a: Sequence[Any],
    b: Sequence[Any],
    *,
    log_x: bool = False,
    log_y: bool = False,
) -> float | None:
    """The first x where series ``a`` and ``b`` cross, interpolating as the plot draws them.

    Between two samples the lines are straight in the plotted space, so with ``log_x`` (``log_y``)
    the interpolation runs in log10 of x (of the costs); samples that cannot be drawn on a log
    axis (zero or negative) are skipped. Points where both series are equal before they first
    differ (two free tiers) do not count. Returns None when they never cross.
    """
    xs, ya, yb = _floats(x), _floats(a), _floats(b)
    if not len(xs) == len(ya) == len(yb):
        raise ValueError(
            f"x, a and b must be the same length (got {len(xs)}, {len(ya)}, {len(yb)})"
        )

    def plotted(v: float) -> float:
        if not log_y:
            return v
        return math.log10(v) if v > 0 else math.nan

    diff = [plotted(p) - plotted(q) for p, q in zip(ya, yb, strict=True)]
    last = None  # index of the last drawable point where the series differed
    for i, d in enumerate(diff):
        if not math.isfinite(d) or (log_x and xs[i] <= 0):
            continue
        if d == 0:
            if last is not None:
                ahead = [e for e in diff[i + 1 :] if math.isfinite(e) and e != 0]
                if ahead and (ahead[0] > 0) != (diff[last] > 0):
                    return xs[i]
            continue
        if last is not None and (diff[last] > 0) != (d > 0):
            x0, x1 = xs[last], xs[i]
            if log_x:
                x0, x1 = math.log10(x0), math.log10(x1)
            t = diff[last] / (diff[last] - d)
            hit = x0 + t * (x1 - x0)
            return 10**hit if log_x else hit
        last = i
    return None


def annotate_crossover(
    ax: Axes,
    x: Sequence[Any],
    a: Sequence[Any],
    b: Sequence[Any],
    *,
    label: str | None = None,
    unit: str = "",
) -> float | None:
    """Mark where ``a`` and ``b`` cross with a dashed line and a note; return that x (or None)."""
    hit = find_crossover(x, a, b, log_x=ax.get_xscale() == "log", log_y=ax.get_yscale() == "log")
    if hit is None:
        return None
    text = label or f"crossover ≈ {format_quantity(hit)}{' ' + unit if unit else ''}"
    ax.axvline(hit, color="0.35", linestyle="--", linewidth=1, gid="crossover")
    # keep the note inside the axes: right of the line in the left half, left of it otherwise
    left, right = ax.get_xlim()
    scale = math.log10 if ax.get_xscale() == "log" else float
    where = (scale(hit) - scale(left)) / (scale(right) - scale(left))
    ax.annotate(
        text,
        xy=(hit, 0.97),
        xycoords=("data", "axes fraction"),
        xytext=(4, 0) if where < 0.6 else (-4, 0),
        textcoords="offset points",
        ha="left" if where < 0.6 else "right",
        va="top",
        fontsize=9,
        color="0.25",
        gid="crossover-label",
    )
    return hit


def breakdown_bar(ax: Axes | None, breakdown: Any, title: str | None = None) -> Figure:
    """Horizontal bars of a cost breakdown's line items (those above $0), in USD."""
    items = [i for i in breakdown.items if Decimal(i.amount) > 0]
    with style():
        if ax is None:
            ax = _new_axes()
        labels = [i.dimension for i in items]
        amounts = [float(i.amount) for i in items]
        ax.barh(labels, amounts, height=0.6, color="C0")
        ax.margins(x=0.15)
        ax.invert_yaxis()
        ax.set_xlabel("USD per month")
        ax.xaxis.set_major_formatter(FuncFormatter(format_usd))
        ax.grid(axis="y", visible=False)
        for k, amount in enumerate(amounts):
            ax.annotate(
                format_usd(amount),
                xy=(amount, k),
                xytext=(3, 0),
                textcoords="offset points",
                va="center",
                fontsize=9,
            )
        ax.set_title(title or f"{breakdown.function} on {breakdown.on.isoformat()}")
    return ax.figure
