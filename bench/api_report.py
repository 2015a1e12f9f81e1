"""bench/api.py's samples, table and ratios."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from bench.api_load import PAGE, Run
from bench.common import median, percentile, table


@dataclass
class Row:
    """The samples of one table row: per-request (or per-cycle) seconds, and the wall
    time and HTTP requests they took."""

    latencies: list[float] = field(default_factory=list)
    wall_s: float = 0.0
    requests: int = 0
    cpu_s: float = 0.0

    def add(
        self,
        latencies: Sequence[float],
        wall_s: float,
        *,
        cpu_s: float,
        requests: int | None = None,
    ) -> None:
        self.latencies += latencies
        self.wall_s += wall_s
        self.cpu_s += cpu_s
        self.requests += len(latencies) if requests is None else requests

    def record(self, run: Run, *, count_requests: bool = False) -> None:
        """Add a run; its requests count only when asked (cycles make several each)."""
        requests = run.requests if count_requests else None
        self.add(run.latencies, run.wall_s, cpu_s=run.server_cpu_s, requests=requests)

    @property
    def cpu_ms(self) -> float:
        """CPU milliseconds per timed request (or cycle)."""
        return self.cpu_s / len(self.latencies) * 1000 if self.latencies else float("nan")

    @property
    def p50_ms(self) -> float:
        return median(self.latencies) * 1000

    @property
    def p99_ms(self) -> float:
        return percentile(self.latencies, 99) * 1000

    @property
    def per_s(self) -> float:
        return self.requests / self.wall_s if self.wall_s else float("nan")

    def summary(self) -> dict[str, float]:
        return {
            "timed": len(self.latencies),
            "requests": self.requests,
            "per_s": self.per_s,
            "p50_ms": self.p50_ms,
            "p99_ms": self.p99_ms,
            "cpu_ms": self.cpu_ms,
        }


def row_names(sizes: Sequence[int], show_clients: Sequence[int]) -> list[str]:
    """The keys of every row bench/api.py fills."""
    return [
        *(f"{kind} {n}" for kind in ("list", "floor") for n in sizes),
        *(f"show {c}" for c in show_clients),
        "show floor",
        "cycles",
    ]


def _ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


def _ms(value: float) -> str:
    return f"{value:.2f}" if value < 10 else f"{value:.1f}"


def _cells(label: str, volumes: int, clients: int, row: Row, floor: Row | None) -> list[str]:
    return [
        label,
        f"{volumes:,}",
        str(clients),
        f"{len(row.latencies):,}",
        f"{row.per_s:,.0f}",
        _ms(row.p50_ms),
        _ms(row.p99_ms),
        _ms(row.cpu_ms),
        "-" if floor is None else f"{_ratio(row.p50_ms, floor.p50_ms):.1f}",
    ]


def render(
    sizes: Sequence[int], rows: dict[str, Row], *, show_clients: Sequence[int], cycle_clients: int
) -> str:
    """The markdown table: the API rows, then their floors."""
    small, large = sizes
    page = f"list: GET /volumes/detail?limit={PAGE}, every page by marker"
    floor_page = "floor: the page's SQL + json.dumps"
    cycles = rows["cycles"]
    cycle_cells = _cells(
        "create+delete: POST, DELETE, GETs (req/s: every request)",
        small,
        cycle_clients,
        cycles,
        None,
    )
    cycle_cells[4] += f" ({_ratio(len(cycles.latencies), cycles.wall_s):.0f} cycles/s)"
    return table(
        [
            "request",
            "volumes",
            "clients",
            "timed",
            "req/s",
            "p50 ms",
            "p99 ms",
            "CPU ms each",
            "x floor (p50)",
        ],
        [
            _cells(page, small, 1, rows[f"list {small}"], rows[f"floor {small}"]),
            _cells(page, large, 1, rows[f"list {large}"], rows[f"floor {large}"]),
            *(
                _cells(
                    "show: GET /volumes/{id}",
                    small,
                    clients,
                    rows[f"show {clients}"],
                    rows["show floor"] if clients == 1 else None,  # others include queueing
                )
                for clients in show_clients
            ),
            cycle_cells,
            [*_cells(floor_page, small, 1, rows[f"floor {small}"], None)[:-1], "1.0"],
            [*_cells(floor_page, large, 1, rows[f"floor {large}"], None)[:-1], "1.0"],
            [
                *_cells("floor: by-id SELECT + json.dumps", small, 1, rows["show floor"], None)[
                    :-1
                ],
                "1.0",
            ],
        ],
    )


def ratios(sizes: Sequence[int], rows: dict[str, Row]) -> dict[str, float]:
    """The side-by-side ratios the notes discuss: p50 over p50, CPU over CPU."""
    small, large = sizes
    p50 = {name: row.p50_ms for name, row in rows.items()}
    cpu = {name: row.cpu_ms for name, row in rows.items()}
    return {
        "list_large_vs_small": _ratio(p50[f"list {large}"], p50[f"list {small}"]),
        "list_large_vs_small_cpu": _ratio(cpu[f"list {large}"], cpu[f"list {small}"]),
        "floor_large_vs_small": _ratio(p50[f"floor {large}"], p50[f"floor {small}"]),
        "list_small_x_floor": _ratio(p50[f"list {small}"], p50[f"floor {small}"]),
        "list_large_x_floor": _ratio(p50[f"list {large}"], p50[f"floor {large}"]),
        "list_small_x_floor_cpu": _ratio(cpu[f"list {small}"], cpu[f"floor {small}"]),
        "list_large_x_floor_cpu": _ratio(cpu[f"list {large}"], cpu[f"floor {large}"]),
        "show_x_floor": _ratio(p50["show 1"], p50["show floor"]),
        "show_x_floor_cpu": _ratio(cpu["show 1"], cpu["show floor"]),
    }


def ratio_lines(sizes: Sequence[int], rows: dict[str, Row], *, target_ms: float) -> list[str]:
    """The ratios and the target, as sentences under the table."""
    small, large = sizes
    r = ratios(sizes, rows)
    big = rows[f"list {large}"]
    return [
        f"List page at {large:,} / at {small:,} volumes: {r['list_large_vs_small']:.2f}x "
        f"(p50), {r['list_large_vs_small_cpu']:.2f}x (server CPU); the floor's p50 "
        f"{r['floor_large_vs_small']:.2f}x.",
        f"Over the floor: list page {r['list_small_x_floor']:.1f}x (p50) and "
        f"{r['list_small_x_floor_cpu']:.1f}x (CPU) at {small:,} volumes, "
        f"{r['list_large_x_floor']:.1f}x and {r['list_large_x_floor_cpu']:.1f}x at "
        f"{large:,}; show (1 client) {r['show_x_floor']:.0f}x and {r['show_x_floor_cpu']:.0f}x.",
        f"Target: list page p50 < {target_ms:.0f} ms at {large:,} volumes: {big.p50_ms:.1f} ms "
        f"(server CPU {big.cpu_ms:.1f} ms per page) -> "
        + ("MET" if big.p50_ms < target_ms else "NOT MET"),
    ]
