"""Figures of a load run: requests and operations per second, latencies, errors."""

from __future__ import annotations

from collections import defaultdict

from tests.hostile.load_clients import Ledger


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def latencies(ledger: Ledger) -> dict[str, list[float]]:
    by_kind: dict[str, list[float]] = defaultdict(list)
    for sample in ledger.samples:
        by_kind[sample.what].append(sample.seconds)
    return dict(by_kind)


def report(title: str, ledger: Ledger, seconds: float, baseline: Ledger | None = None) -> str:
    lines = [f"{title}: {seconds:.0f} s"]
    total = len(ledger.samples)
    errors = sum(1 for s in ledger.samples if s.status >= 500)
    no_answer = sum(1 for s in ledger.samples if s.status == 0)
    ops = ledger.deposits + ledger.collections
    lines.append(
        f"  {total} requests ({total / seconds:.0f}/s), {ops} operations ({ops / seconds:.1f}/s:"
        f" {ledger.deposits} deposits stored, {ledger.collections} collections,"
        f" {ledger.wrong_codes} wrong codes), 5xx: {errors}, no answer: {no_answer}"
    )
    base = latencies(baseline) if baseline else {}
    for what, values in sorted(latencies(ledger).items()):
        p50, p99 = percentile(values, 0.5), percentile(values, 0.99)
        line = f"  {what:22} n={len(values):6}  p50 {p50 * 1000:7.1f} ms  p99 {p99 * 1000:7.1f} ms"
        if base.get(what):
            ratio = p50 / percentile(base[what], 0.5)
            line += f"  (p50 {ratio:.1f}x the baseline's)"
        lines.append(line)
    return "\n".join(lines)
