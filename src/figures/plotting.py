"""Shared plotting helpers: headless backend, atomic PNG saves, consistent labels."""
from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402


def save_figure(fig, path: str | Path) -> Path:
    """Render to memory, then write atomically; closes the figure."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(buffer.getvalue())
    tmp.replace(path)
    return path


PAPER_MODES = {"reduction": "sum", "factor": "exact"}  # src/objectives/modes.py; others are named in labels


def run_label(meta: dict) -> str:
    """"CE", "CE (DCO N'=1)" or "DCO N'=256" — how a run is named in legends; the reference code's
    modes, when used, are appended ("DCO N'=256 token_mean reference")."""
    if meta.get("job_type") == "evaluate":  # src.evaluate: the model evaluated
        return str(meta.get("model", "?"))
    objective = meta.get("objective", {})
    name = objective.get("name", "?")
    modes = " ".join(str(objective[k]) for k, paper in PAPER_MODES.items() if objective.get(k, paper) != paper)
    suffix = f" {modes}" if modes else ""
    if name == "cross_entropy":
        return "CE" + suffix
    if name == "dco" and objective.get("n") == 1 and not objective.get("threshold"):
        return "CE (DCO N'=1)" + suffix
    params = ", ".join(f"{k}={v}" for k, v in objective.items() if k not in ("name", "threshold", *PAPER_MODES))
    return f"{name.upper()} {params}".strip().replace("n=", "N'=") + suffix


def is_cross_entropy(meta: dict) -> bool:
    """CE, or DCO with N' = 1 (the same loss): the runs the paper's Table 1 numbers are for."""
    return run_label(meta).startswith("CE")


def source_note(metas: list[dict]) -> str:
    sources = sorted({m.get("resolved_source", "?") for m in metas})
    return "data: " + ", ".join(sources)


def percent_axis(ax, label: str, min_span: float = 1.0) -> None:
    """A y axis of values already in % (the reports' unit): labelled, plain numbers with no offset
    label, and at least `min_span` points tall, so a flat one-epoch curve is not blown up."""
    ax.set_ylabel(label)
    ax.ticklabel_format(axis="y", style="plain", useOffset=False)
    low, high = ax.get_ylim()
    if high - low < min_span:
        low = max(0.0, (low + high - min_span) / 2)
        ax.set_ylim(low, low + min_span)


def epoch_axis(ax) -> None:
    """Whole epochs only on the x axis (no 2.5, no offset label on a one-epoch run)."""
    ax.set_xlabel("epoch")
    low, high = ax.get_xlim()
    if high - low < 1.5:  # one epoch: a window of ±0.75 around it, one tick
        ax.set_xlim((low + high) / 2 - 0.75, (low + high) / 2 + 0.75)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
