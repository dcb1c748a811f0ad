"""The benchmark table: its cells, the Markdown/CSV/plot views, the published figures, the result folder.

:func:`stylelab.bench.run` measures; this module holds what a run produced —
a :class:`Cell` per (method, size) with its seconds and peak memory, the
:class:`BenchResult` that renders them (rows = methods, columns = square
sizes, log-log time plot) and writes them into a new timestamped folder
(existing results are never overwritten) — and :data:`PUBLISHED`, the
authors' figures the course compares to. :mod:`stylelab.bench` runs the
benchmark.
"""

from __future__ import annotations

import csv
import datetime as _dt
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["PUBLISHED", "Cell", "BenchResult"]

#: Published figures the course compares to (seconds; "OOM" = out of memory), all
#: measured by the authors on their GPUs. Sources: the running-time table of J. Yoo et al.,
#: "Photorealistic Style Transfer via Wavelet Transforms", ICCV 2019 (also in the clovaai/WCT2
#: README), and the speed table of J. Johnson, A. Alahi, L. Fei-Fei, "Perceptual Losses for
#: Real-Time Style Transfer and Super-Resolution", ECCV 2016.
PUBLISHED: dict[str, dict[int, str]] = {
    "Gatys, 500 it. (Johnson et al. 2016)": {256: "15.86", 512: "54.85", 1024: "214.44"},
    "feed-forward (Johnson et al. 2016)": {256: "0.015", 512: "0.05", 1024: "0.21"},
    "DPST (Luan et al. 2017)": {128: "135.2", 256: "306.9", 512: "1020.7", 768: "2264.0", 1024: "3887.8"},
    "PhotoWCT: WCT part": {128: "2.7", 256: "3.2", 512: "3.6", 768: "3.8", 1024: "3.9"},
    "PhotoWCT: smoothing": {128: "2.5", 256: "9.2", 512: "40.2", 768: "101.8", 1024: "OOM"},
    "WCT² (no post-processing)": {128: "2.5", 256: "3.2", 512: "3.8", 768: "4.2", 1024: "4.7"},
}


@dataclass
class Cell:
    """One (method, size) measurement. ``status`` is "ok" or why it was skipped."""

    method: str
    label: str
    family: str
    size: int
    seconds: float | None = None
    peak_mib: float | None = None
    status: str = "ok"
    weights: str = ""
    memory_method: str = ""


@dataclass
class BenchResult:
    """All cells of a run plus what it ran on."""

    cells: list[Cell]
    sizes: list[int]
    meta: dict[str, Any] = field(default_factory=dict)

    # ---------------------------------------------------------------- views
    def rows(self) -> list[str]:
        seen: dict[str, None] = {}
        for c in self.cells:
            seen.setdefault(c.method, None)
        return list(seen)

    def cell(self, method: str, size: int) -> Cell | None:
        return next((c for c in self.cells if c.method == method and c.size == size), None)

    def seconds(self, method: str) -> dict[int, float]:
        """``{size: seconds}`` of the cells of ``method`` that ran."""
        return {c.size: c.seconds for c in self.cells if c.method == method and c.seconds is not None}

    def header_lines(self) -> list[str]:
        m = self.meta
        return [
            f"- machine: {m.get('machine', '?')}",
            f"- device: {m.get('device', '?')}",
            f"- torch {m.get('torch', '?')}, stylelab {m.get('stylelab', '?')}, python {m.get('python', '?')}",
            f"- date: {m.get('date', '?')}; mode: {'quick' if m.get('quick') else 'full'}; "
            f"optimisation iterations: {m.get('iterations', '?')}; inputs: {m.get('inputs', '?')}",
            f"- memory: {m.get('memory_method', '?')}",
            f"- weights: {m.get('weights', '?')}",
        ] + (["- **interrupted**: the run was stopped early; missing cells were not measured"] if m.get("interrupted") else [])

    def to_markdown(self) -> str:
        """The table: rows = methods, columns = sizes, each cell "seconds s / peak MiB"."""
        lines = ["# stylelab bench", "", *self.header_lines(), ""]
        lines.append("| method | weights | " + " | ".join(f"{s} px" for s in self.sizes) + " |")
        lines.append("|---|---|" + "---|" * len(self.sizes))
        for key in self.rows():
            cells = [self.cell(key, s) for s in self.sizes]
            first = next(c for c in cells if c is not None)
            texts = []
            for c in cells:
                if c is None:
                    texts.append("")
                elif c.status == "ok":
                    mem = "?" if c.peak_mib is None else ("<1 MiB" if c.peak_mib < 1 else f"{c.peak_mib:.0f} MiB")
                    texts.append(f"{_fmt_seconds(c.seconds)} / {mem}")
                else:
                    texts.append(c.status)
            lines.append(f"| {first.label} | {first.weights} | " + " | ".join(texts) + " |")
        lines += ["", "Each cell: wall-clock seconds of one stylisation (model loading excluded, device synchronised) / "
                  "peak memory it added. Random weights time the same computation as pretrained ones; "
                  "only the pictures differ."]
        return "\n".join(lines) + "\n"

    def write_csv(self, path: str | os.PathLike) -> Path:
        path = Path(path)
        fields = list(asdict(self.cells[0]).keys()) + ["device", "torch", "iterations"] if self.cells else ["method"]
        with open(path, "x", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=fields)
            w.writeheader()
            for c in self.cells:
                row = asdict(c)
                row.update(device=self.meta.get("device", ""), torch=self.meta.get("torch", ""),
                           iterations=self.meta.get("iterations", ""))
                w.writerow(row)
        return path

    def plot(self, ax=None, published: bool = False):
        """Time against image side on log-log axes (one line per method); returns the figure."""
        import matplotlib.pyplot as plt

        from matplotlib.ticker import NullFormatter, ScalarFormatter

        if ax is None:
            fig, ax = plt.subplots(figsize=(9.5, 4.8))
        else:
            fig = ax.figure
        styles = {"optimisation": "-o", "feed-forward": "-s", "pixel": "--^"}
        for i, key in enumerate(self.rows()):
            pts = self.seconds(key)
            if not pts:
                continue
            first = next(c for c in self.cells if c.method == key)
            xs = sorted(pts)
            label = first.label + (" (random weights)" if first.weights == "random" else "")
            ax.plot(xs, [max(pts[x], 1e-5) for x in xs], styles.get(first.family, "-o"), label=label,
                    color=plt.cm.tab20(i % 20))
        if published:
            for i, (name, figs) in enumerate(PUBLISHED.items()):
                xs = [s for s, v in figs.items() if v != "OOM"]
                ax.plot(xs, [float(figs[s]) for s in xs], ":", color="grey", alpha=0.7)
                ax.annotate(f"paper (GPU): {name}", (xs[-1], float(figs[xs[-1]])), fontsize=6, color="dimgrey",
                            textcoords="offset points", xytext=(-150, (6, 6, 6, -16, 6, 8)[i % 6]))
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("image side (px), square images")
        ax.set_ylabel("seconds per image")
        ax.set_title(f"time vs resolution — {self.meta.get('device', '')}", fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
        ticks = sorted(set(self.sizes) | ({128, 256, 512, 1024} if published else set()))
        ax.set_xticks(ticks)
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
        fig.tight_layout()
        return fig

    def save(self, out: str | os.PathLike = "bench-results") -> Path:
        """Write CSV, Markdown, plot and meta into a new timestamped folder under ``out``; return the folder."""
        folder = _new_folder(Path(out))
        self.write_csv(folder / "results.csv")
        (folder / "results.md").write_text(self.to_markdown(), encoding="utf-8")
        meta = dict(self.meta, sizes=self.sizes)
        (folder / "meta.json").write_text(json.dumps(meta, indent=1, default=str), encoding="utf-8")
        import matplotlib.pyplot as plt

        fig = self.plot()
        fig.savefig(folder / "time_vs_size.png", dpi=110)
        plt.close(fig)
        return folder


def _fmt_seconds(s: float | None) -> str:
    if s is None:
        return "?"
    if s < 0.01:
        return f"{s * 1000:.2f} ms"
    if s < 10:
        return f"{s:.2f} s"
    return f"{s:.0f} s"


def _new_folder(out: Path) -> Path:
    """``out/YYYYmmdd-HHMMSS`` (``-2``, ``-3``, … if taken), created empty; never reuses a folder."""
    out.mkdir(parents=True, exist_ok=True)
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    for i in range(1, 1000):
        folder = out / (stamp if i == 1 else f"{stamp}-{i}")
        try:
            folder.mkdir()
            return folder
        except FileExistsError:
            continue
    raise FileExistsError(f"could not create a new result folder under {out}")
