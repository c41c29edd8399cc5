"""Draw the benchmark figures (``docs/bench/*.json``) as PNG plots next to them.

``make bench`` runs this after the benchmarks; ``python loadtest/plots.py`` redraws from the
recorded JSON alone. Plots: booking throughput vs concurrency, booking latency percentiles,
live-update latency per subscriber count.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # after choosing the backend

BENCH = Path(__file__).resolve().parents[1] / "docs" / "bench"
MODES = {"batched": ("#2563eb", "batched (actor)"), "per-request": ("#9ca3af", "per request")}


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _machine(data: dict[str, Any]) -> str:
    machine = data["machine"]
    return f"{machine['cpus']} vCPU, Python {machine['python']}"


def throughput(booking: dict[str, Any], out: Path) -> None:
    figure, axes = plt.subplots(figsize=(7, 4.2))
    for mode, (color, label) in MODES.items():
        runs = sorted((r for r in booking["runs"] if r["mode"] == mode), key=lambda r: r["clients"])
        clients = [r["clients"] for r in runs]
        axes.plot(clients, [r["per_second"] for r in runs], "o-", color=color, label=label)
        for run in runs:
            axes.annotate(f"{run['per_second']:,.0f}", (run["clients"], run["per_second"]),
                          textcoords="offset points", xytext=(0, 7), ha="center", fontsize=8)  # fmt: skip
    axes.set_xscale("log", base=2)
    axes.set_xticks(clients, [str(c) for c in clients])
    axes.set_xlabel("concurrent clients (one hot event)")
    axes.set_ylabel("bookings committed per second")
    axes.set_ylim(bottom=0)
    axes.set_title(f"Booking throughput ({_machine(booking)})")
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(out, dpi=120)
    plt.close(figure)


def latency(booking: dict[str, Any], out: Path) -> None:
    shown = [r for r in booking["runs"] if r["mode"] in MODES]  # not the metrics-off control
    runs = sorted(shown, key=lambda r: (r["clients"], r["mode"] != "batched"))
    labels = [
        f"{r['clients']}\n{'batched' if r['mode'] == 'batched' else 'per req.'}" for r in runs
    ]
    figure, axes = plt.subplots(figsize=(8, 4.2))
    width = 0.27
    for offset, (key, name) in enumerate((("p50_ms", "p50"), ("p95_ms", "p95"), ("p99_ms", "p99"))):
        positions = [i + (offset - 1) * width for i in range(len(runs))]
        axes.bar(positions, [r[key] for r in runs], width, label=name)
    axes.set_xticks(range(len(runs)), labels, fontsize=8)
    axes.set_xlabel("concurrent clients, mode")
    axes.set_ylabel("booking latency (ms)")
    axes.set_title("Booking latency percentiles")
    axes.grid(axis="y", alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(out, dpi=120)
    plt.close(figure)


def live(results: list[dict[str, Any]], out: Path, target_ms: float = 250) -> None:
    results = sorted(results, key=lambda r: r["subscribers"])
    labels = [
        f"{r['subscribers']:,} subscribers\n{r['messages_per_second']:,.0f} msg/s" for r in results
    ]
    figure, axes = plt.subplots(figsize=(6.5, 4.2))
    width = 0.35
    for offset, (key, name) in enumerate(
        (("commit_to_receive_p50_ms", "p50"), ("commit_to_receive_p99_ms", "p99"))
    ):
        positions = [i + (offset - 0.5) * width for i in range(len(results))]
        bars = axes.bar(positions, [r[key] for r in results], width, label=name)
        axes.bar_label(bars, fmt="%.0f ms", fontsize=8)
    axes.axhline(
        target_ms,
        color="#dc2626",
        linestyle="--",
        linewidth=1,
        label=f"target p99 {target_ms:.0f} ms",
    )
    axes.set_xticks(range(len(results)), labels, fontsize=8)
    axes.set_ylabel("commit to receive (ms)")
    axes.set_title("Live updates: two instances through Redis")
    axes.grid(axis="y", alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(out, dpi=120)
    plt.close(figure)


def draw(bench: Path = BENCH) -> list[Path]:
    """Every plot whose figures exist; returns the files written."""
    written = []
    if (bench / "booking.json").exists():
        booking = _load(bench / "booking.json")
        throughput(booking, bench / "booking-throughput.png")
        latency(booking, bench / "booking-latency.png")
        written += [bench / "booking-throughput.png", bench / "booking-latency.png"]
    lives = [_load(path)["result"] for path in sorted(bench.glob("live*.json"))]
    if lives:
        live(lives, bench / "live-latency.png")
        written.append(bench / "live-latency.png")
    return written


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bench", type=Path, default=BENCH)
    for path in draw(parser.parse_args().bench):
        print(f"plot: {path}")
