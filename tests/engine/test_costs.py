"""A job's cost through the service: the quota refusal, the hold and a re-roll all use core.pricing's units."""

from __future__ import annotations

import pytest

from core.catalog import get_model
from core.errors import QuotaExhausted
from core.pricing import Pricing
from core.types import ImageRole, JobState
from tests.engine.conftest import Harness

MAX_ILLUSTRATION = {"steps": "70", "width": "2048", "height": "2048"}


async def test_a_max_settings_job_is_refused_where_the_default_job_fits(harness: Harness) -> None:
    service = await harness.start_engine()
    await harness.store.set_policy("g1", daily_units=5)
    with pytest.raises(QuotaExhausted, match="you have 5 units left today, this needs 28"):
        await service.submit(harness.request(model="illustration", **MAX_ILLUSTRATION))
    assert (await harness.store.ledger_totals())["hold"] == 0  # no job, no hold: nothing charged
    view = await service.submit(harness.request(model="illustration"))
    assert view.cost == 1
    assert (await harness.store.ledger_totals()).get("hold") == 1


async def test_a_reroll_costs_what_its_payload_costs_now(harness: Harness) -> None:
    service = await harness.start_engine(pricing=Pricing({"sheet": 3}))
    first = harness.request(model="sheet", upscale="4")
    view = await service.submit(first)
    assert view.cost == 9  # 3 units at defaults x 3 for the 4x upscale
    await harness.run_until_state(view.job_id, JobState.DELIVERED)
    await harness.store.set_policy("g1", model_weights={"sheet": 4})  # the community raises the price
    again = await service.reroll(first.actor, first.place, view.job_id, same_seed=False, idem_key="r1",
                                 reply_ref="ref-r1")
    same = await service.reroll(first.actor, first.place, view.job_id, same_seed=True, idem_key="r2",
                                reply_ref="ref-r2")
    assert again.cost == same.cost == 12
    for view in (again, same):  # a v1 call left in flight would hold the engine's stop
        await harness.run_until_state(view.job_id, JobState.DELIVERED)
    job = await harness.store.get_job(again.job_id)
    assert job.payload["upscale_by"] == 4 and job.cost == service.pricing.units(get_model("sheet"), job.payload,
                                                                                 {"sheet": 4})


async def test_a_community_weight_below_the_operators_price_does_not_lower_it(harness: Harness) -> None:
    service = await harness.start_engine(pricing=Pricing({"poses": 2}))
    await harness.store.set_policy("g1", model_weights={"poses": 1})
    view = await service.submit(harness.request(n=3))
    assert view.cost == 6
    assert (await service.weights(harness.request().place))["poses"] == 2


async def test_pose_at_the_largest_custom_size_holds_sixteen_units(harness: Harness) -> None:
    service = await harness.start_engine()
    request = harness.request(model="pose", images=(ImageRole.CHARACTER, ImageRole.POSE), width="4096",
                              height="4096", **{"input-size": "no"})
    view = await service.submit(request)
    assert view.cost == 16
    assert (await harness.store.ledger_totals()).get("hold") == 16
    await harness.run_until_state(view.job_id, JobState.DELIVERED)
    assert (await harness.store.ledger_totals()).get("capture") == 16
