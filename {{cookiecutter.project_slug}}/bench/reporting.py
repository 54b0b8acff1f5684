"""What a bench run prints: the table of medians, the ratios that matter, memory under load."""

import argparse

from loading import load
from servers import Target


def report(
    rows: list[Target],
    options: argparse.Namespace,
    header: str,
    pairs: list[tuple[str, str]],
) -> None:
    """Print the table, then the ratio of each pair of rows in `pairs` that both ran."""
    medians = {row.name: row.median() for row in rows}
    bare = medians["bare /livez"].rps
    print(header)
    print(
        f"{'target':<34}{'rps':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'CPU us':>10}"
        f"{'vs bare':>9}"
    )
    for name, figures in medians.items():
        print(
            f"{name:<34}{figures.rps:>9.0f}{figures.p50_ms:>9.2f}{figures.p99_ms:>9.2f}"
            f"{figures.errors:>8}{figures.cpu_us:>10.1f}{figures.rps / bare:>8.2f}x"
        )
    print(
        "(CPU us: the server's CPU time per request, in microseconds; vs bare: rps / bare rps)"
    )
    if any(figures.errors for figures in medians.values()):
        print(
            "(errors: answers of 400 and up, and requests given up on: wrk waits 2 s at most)"
        )
    opening = {name: figures.sessions_per_s for name, figures in medians.items()}
    if any(rate is not None for rate in opening.values()):
        counted = ", ".join(
            f"{name} {rate:.1f}" for name, rate in opening.items() if rate is not None
        )
        print(
            f"new database sessions per second under load (the most of the runs): {counted}"
        )
    for first, second in pairs:
        if first in medians and second in medians:
            ratio = medians[first].rps / medians[second].rps
            print(f"{first} vs {second}: {ratio:.2f}x")
    if options.duration < 5 or options.repeat < 3:
        print(
            "(a short run: `make bench` without --quick takes figures worth comparing)"
        )


def soak(target: Target, options: argparse.Namespace, wrk: str | None) -> str:
    """Memory of the target's server now and, with --soak, after that many seconds more of load."""
    before = target.server.rss_mb()
    if before is None:
        return "not measured (no /proc on this system)"
    text = f"{before:.1f} MB after the runs"
    if options.soak:
        figures = load(target, options.soak, options, wrk)
        after = target.server.rss_mb() or before
        text += (
            f"; {after:.1f} MB after {options.soak} s more on {target.path} "
            f"({(after / before - 1) * 100:+.1f} %; {figures.rps:.0f} rps, "
            f"p99 {figures.p99_ms:.2f} ms)"
        )
    return text
