"""An explanation as JSON-able values and as plain-text tables."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from basalt.service.scheduler.explain import Explanation, PoolVerdict


def explanation_as_dict(explanation: Explanation) -> dict[str, object]:
    """The request, the settings, the chosen host and every pool's verdicts and scores."""
    chosen = explanation.chosen
    return {
        "request": explanation.request.as_dict(),
        "filters": list(explanation.settings.filters),
        "weighers": dict(explanation.settings.weighers),
        "chosen": None if chosen is None else chosen.pool.host,
        "summary": None if chosen is not None else explanation.failure_summary(),
        "pools": [_pool_as_dict(verdict) for verdict in explanation.pools],
    }


def _pool_as_dict(verdict: PoolVerdict) -> dict[str, object]:
    pool = verdict.pool
    return {
        "host": pool.host,
        "backend": pool.backend,
        "pool": pool.pool,
        "availability_zone": pool.availability_zone,
        "passed": verdict.passed,
        "chosen": verdict.chosen,
        "rank": verdict.rank,
        "score": verdict.total,
        "filters": [f.as_dict() for f in verdict.filters],
        "weighers": [
            {
                "name": s.weigher,
                "multiplier": s.multiplier,
                "raw": s.raw,
                "normalised": s.normalised,
                "weighted": s.weighted,
            }
            for s in verdict.scores
        ],
    }


def explanation_as_text(explanation: Explanation, *, limit: int | None, verbose: bool) -> str:
    """Plain-text tables: the request, the ranked pools, the failed pools with reasons.

    Args:
        explanation: what to render.
        limit: at most this many pools per table (None: all).
        verbose: add every filter's verdict for every pool shown.
    """
    ranked = [v for v in explanation.pools if v.rank is not None]
    failed = [v for v in explanation.pools if v.rank is None]
    lines = _heading(explanation)
    if ranked:
        lines += ["", *_ranked_table(ranked[:limit]), *_more(ranked, limit)]
    if failed:
        rows = [
            [v.pool.host, v.pool.availability_zone, f.filter, f.reason]
            for v in failed[:limit]
            for f in v.filters
            if not f.passed
        ]
        lines += ["", *_table(["failed", "zone", "filter", "reason"], rows), *_more(failed, limit)]
    if verbose:
        rows = [
            [v.pool.host, f.filter, "pass" if f.passed else "FAIL", f.reason]
            for v in ranked[:limit] + failed[:limit]
            for f in v.filters
        ]
        lines += ["", *_table(["host", "filter", "verdict", "reason"], rows)]
    return "\n".join(lines)


def _ranked_table(ranked: Sequence[PoolVerdict]) -> list[str]:
    weighers = [f"{s.weigher} x{s.multiplier:g}" for s in ranked[0].scores]
    rows = [
        [
            str(v.rank),
            v.pool.host,
            v.pool.availability_zone,
            *(f"{s.raw:.6g} ({s.weighted + 0.0:+.3f})" for s in v.scores),
            f"{v.total:.4f}",
        ]
        for v in ranked
    ]
    return _table(["rank", "host", "zone", *weighers, "score"], rows)


def _heading(explanation: Explanation) -> list[str]:
    request = explanation.request
    specs = ", ".join(f"{k}={v}" for k, v in sorted(request.extra_specs.items())) or "none"
    zone = request.availability_zone or "any"
    lines = [f"request: {request.size_gib} GiB, zone {zone}, extra specs {specs}"]
    if request.same_backend_as:
        lines.append(f"same backend as: {', '.join(sorted(request.same_backend_as))}")
    if request.different_backend_from:
        lines.append(f"different backend from: {', '.join(sorted(request.different_backend_from))}")
    chosen = explanation.chosen
    if chosen is None:
        lines.append(explanation.failure_summary())
    else:
        lines.append(f"chosen: {chosen.pool.host} (score {chosen.total:.4f})")
    return lines


def _more(shown: Sequence[object], limit: int | None) -> list[str]:
    if limit is None or len(shown) <= limit:
        return []
    hidden = len(shown) - limit
    return [f"... and {hidden} more pool{'s' if hidden > 1 else ''}"]


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    return [
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
        for line in [list(headers), *rows]
    ]
