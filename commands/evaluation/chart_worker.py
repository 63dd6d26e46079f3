"""Draws the evaluation chart: run as a short-lived process, never imported by the bot.

    python chart_worker.py < chart.json > chart.png

matplotlib takes tens of megabytes once imported and never gives them back; drawing in a
process of its own keeps the bot's resident memory where it was. Standard library and
matplotlib only: this file is run by its path, outside the bot's packages.

Input (JSON): `title`, `labels` (one per time step), `participation` (percent or null per
step, drawn as bars), `score` (pulse mean or null per step, a line on a 1–5 scale), the
axes' and series' names (`participation_label`, `score_label`), `score_min`, `score_max`,
`empty` (the text shown when there is no data)."""

from __future__ import annotations

import io
import json
import sys
from typing import Any

WIDTH_IN, HEIGHT_IN, DPI = 7.2, 3.6, 100  # 720 × 360 px: readable on a phone, a few kB
BAR_COLOUR = "#9ecae1"
LINE_COLOUR = "#d95f02"


def draw(spec: dict[str, Any]) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    labels: list[str] = list(spec.get("labels") or [])
    participation = [None if v is None else float(v) for v in spec.get("participation") or []]
    score = [None if v is None else float(v) for v in spec.get("score") or []]
    figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    figure.suptitle(str(spec.get("title", "")), fontsize=12, fontweight="bold")
    positions = list(range(len(labels)))
    has_data = any(v is not None for v in participation + score)
    if not has_data:
        axes.set_axis_off()
        axes.text(0.5, 0.5, str(spec.get("empty", "")), ha="center", va="center", fontsize=12, color="#555")
    else:
        bars = axes.bar(
            positions,
            [v if v is not None else 0 for v in participation],
            color=BAR_COLOUR,
            label=str(spec.get("participation_label", "")),
            width=0.6,
        )
        for rect, value in zip(bars, participation, strict=False):
            if value is not None:
                axes.annotate(
                    f"{value:.0f} %",
                    (rect.get_x() + rect.get_width() / 2, rect.get_height()),
                    ha="center",
                    va="bottom",
                    fontsize=8,
                    color="#333",
                )
        axes.set_ylim(0, 110)
        axes.set_ylabel(str(spec.get("participation_label", "")), fontsize=9)
        axes.set_xticks(positions)
        axes.set_xticklabels(labels, fontsize=8, rotation=0 if len(labels) <= 13 else 45)
        axes.spines[["top"]].set_visible(False)
        right = axes.twinx()
        low, high = float(spec.get("score_min", 1)), float(spec.get("score_max", 5))
        right.set_ylim(low, high + (high - low) * 0.1)
        right.set_ylabel(str(spec.get("score_label", "")), fontsize=9, color=LINE_COLOUR)
        right.tick_params(axis="y", colors=LINE_COLOUR, labelsize=8)
        right.set_yticks([v for v in range(int(low), int(high) + 1)])
        right.spines[["top"]].set_visible(False)
        points = [(p, v) for p, v in zip(positions, score, strict=False) if v is not None]
        if points:
            xs, ys = zip(*points, strict=True)
            right.plot(
                xs,
                ys,
                color=LINE_COLOUR,
                marker="o",
                linewidth=2,
                label=str(spec.get("score_label", "")),
            )
            for x, y in points:
                right.annotate(
                    f"{y:.1f}".replace(".", spec.get("decimal", ",")),
                    (x, y),
                    textcoords="offset points",
                    xytext=(0, 6),
                    ha="center",
                    fontsize=8,
                    color=LINE_COLOUR,
                )
        handles: list[Any] = [bars, *right.get_lines()[:1]]
        axes.legend(
            handles=handles,
            labels=[h.get_label() for h in handles],
            loc="upper left",
            fontsize=8,
            frameon=False,
            ncols=2,
        )
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()


def main() -> int:
    spec = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    sys.stdout.buffer.write(draw(spec))
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
