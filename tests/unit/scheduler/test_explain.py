"""The full evaluation: what an explanation holds, how it renders, and the refusal."""

from __future__ import annotations

import json

import pytest

from basalt.api.errors import status_for
from basalt.errors import BasaltUsageError, CapacityError, NoValidBackendError
from basalt.service.scheduler import PoolCandidate, SchedulerSettings, explain, schedule
from tests.unit.scheduler.factories import pool, request

GOLD = {"volume_backend_name": "gold"}


def deployment() -> list[PoolCandidate]:
    return [
        pool("gold1", "a", capabilities=GOLD, free=500),
        pool("gold1", "b", capabilities=GOLD, free=900),
        pool("gold2", "a", capabilities=GOLD, zone="az2", free=700),
        pool("silver", "a", capabilities={"volume_backend_name": "silver"}, free=999),
        pool("gold3", "a", capabilities=GOLD, enabled=False, disabled_reason="maintenance"),
    ]


def test_every_pool_has_each_filters_verdict_and_the_survivors_their_scores() -> None:
    found = explain(deployment(), request(10, GOLD))
    assert [v.pool.host for v in found.pools] == [
        "basalt@gold1#b",
        "basalt@gold2#a",
        "basalt@gold1#a",
        "basalt@gold3#a",
        "basalt@silver#a",
    ]
    assert [v.rank for v in found.pools] == [1, 2, 3, None, None]
    assert found.chosen is found.pools[0] and found.pools[0].chosen
    names = list(SchedulerSettings().filters)
    for verdict in found.pools:
        assert [f.filter for f in verdict.filters] == names
    best = found.pools[0]
    assert [s.weigher for s in best.scores] == [
        "free_capacity",
        "allocated_capacity",
        "volume_count",
    ]
    free = best.scores[0]
    assert (free.raw, free.normalised, free.weighted, free.multiplier) == (900.0, 1.0, 1.0, 1.0)
    assert found.pools[3].scores == () and found.pools[3].total is None
    failed = found.pools[3].first_failure
    assert failed is not None and failed.reason == "backend gold3 is disabled (maintenance)"


def test_the_explanation_is_json_with_the_request_echoed() -> None:
    found = explain(deployment(), request(10, GOLD, availability_zone="az1"))
    document = json.loads(json.dumps(found.as_dict()))
    assert document["request"] == {
        "size_gib": 10,
        "extra_specs": GOLD,
        "availability_zone": "az1",
        "same_backend_as": [],
        "different_backend_from": [],
    }
    assert document["chosen"] == "basalt@gold1#b"
    assert document["summary"] is None
    assert document["weighers"] == SchedulerSettings().weighers
    first = document["pools"][0]
    assert first["host"] == "basalt@gold1#b" and first["rank"] == 1 and first["chosen"]
    assert first["filters"][1] == {
        "name": "availability_zone",
        "passed": True,
        "reason": "in zone az1",
    }
    assert first["weighers"][0]["name"] == "free_capacity"
    zone_refused = next(p for p in document["pools"] if p["host"] == "basalt@gold2#a")
    assert not zone_refused["passed"] and zone_refused["score"] is None


def test_the_text_shows_ranks_scores_and_failures_with_reasons() -> None:
    text = explain(deployment(), request(10, GOLD)).as_text()
    lines = text.splitlines()
    assert lines[0] == "request: 10 GiB, zone any, extra specs volume_backend_name=gold"
    assert lines[1].startswith("chosen: basalt@gold1#b (score ")
    assert "rank  host" in text and "free_capacity x1" in text and "volume_count x-1" in text
    rows = [line.split(None, 3) for line in lines]
    assert ["basalt@gold3#a", "az1", "enabled", "backend gold3 is disabled (maintenance)"] in rows
    assert [
        "basalt@silver#a",
        "az1",
        "capabilities",
        "volume_backend_name=gold: reports 'silver'",
    ] in rows
    assert [
        "1",
        "basalt@gold1#b",
        "az1",
        "900 (+1.000)      200 (+0.000)            0 (+0.000)        1.0000",
    ] in rows


def test_the_text_can_be_cut_short_or_show_every_verdict() -> None:
    found = explain(deployment(), request(10, GOLD))
    short = found.as_text(limit=1)
    assert "... and 2 more pools" in short and short.endswith("... and 1 more pool")
    assert "basalt@gold2#a" not in short
    verbose = [line.split(None, 3) for line in found.as_text(verbose=True).splitlines()]
    assert [
        "basalt@gold1#b",
        "capacity",
        "pass",
        "needs 10 GiB, 900.0 GiB free (thick: 900.0 free - 0.0 reserved)",
    ] in verbose
    assert [
        "basalt@gold3#a",
        "enabled",
        "FAIL",
        "backend gold3 is disabled (maintenance)",
    ] in verbose


def test_a_refusal_counts_each_pools_first_failure_and_names_the_commonest_causes() -> None:
    pools = [
        *(pool("gold", f"full{i}", capabilities=GOLD, free=20) for i in range(3)),
        pool("silver", "a", capabilities={"volume_backend_name": "silver"}),
        pool("silver", "b", capabilities={"volume_backend_name": "silver"}, free=1),
    ]
    with pytest.raises(NoValidBackendError) as refused:
        schedule(pools, request(50, GOLD))
    error = refused.value
    assert str(error.message) == (
        "no pool can take 50 GiB: 3 fail capacity, 2 fail capabilities (volume_backend_name=gold)"
    )
    assert error.hint is not None and "basalt scheduler explain" in error.hint
    assert isinstance(error, CapacityError) and error.code == "no_valid_backend"
    assert status_for(error) == 400
    assert len(error.explanation.pools) == 5 and error.explanation.chosen is None
    table = error.explanation.as_text()
    assert table.splitlines()[1] == error.message
    assert "needs 50 GiB, 20.0 GiB free" in table


def test_a_refusal_without_pools_says_so() -> None:
    with pytest.raises(NoValidBackendError, match="no pool can take 1 GiB: no pools are known"):
        schedule([], request(1))


def test_causes_are_listed_most_common_first_at_most_two() -> None:
    pools = [
        pool("a", "1", zone="az2"),
        pool("b", "1", capabilities={"x": "1"}),
        pool("b", "2", capabilities={"x": "1", "y": "2"}),
        pool("b", "3", capabilities={"x": "1", "y": "2"}),
        pool("c", "1", capabilities={"x": "2", "y": "1"}),
    ]
    message = explain(pools, request(1, {"x": "2", "y": "2"}, availability_zone="az1"))
    assert message.failure_summary() == (
        "no pool can take 1 GiB: 4 fail capabilities (x=2, y=2), "
        "1 fail availability_zone (zone az1)"
    )


def test_a_decision_by_the_full_evaluation_carries_it() -> None:
    decision = schedule(deployment(), request(10, GOLD))
    assert decision.host == "basalt@gold1#b"
    assert decision.explanation is not None
    assert decision.explanation.chosen is not None
    assert decision.score == decision.explanation.chosen.total


def test_two_candidates_for_one_pool_are_a_callers_bug() -> None:
    with pytest.raises(BasaltUsageError, match="two candidates for pool basalt@b1#p1"):
        explain([pool(), pool()], request())
