"""The console's "Отзывы" view in Chromium: unanswered reviews first, an operator answers one, calls play."""

from __future__ import annotations

import time

import pytest
from selenium.webdriver.remote.webdriver import WebDriver

from avito_sim import AvitoSimulator
from avito_sim.demo import demo_mp3
from local_runtime import LocalStack
from tests.browser.conftest import FURNITURE_USER, Seeded, sign_in
from tests.support.browser import all_of, click, tid, visible, wait_for

pytestmark = pytest.mark.browser

NOW = int(time.time())


@pytest.fixture(scope="module")
def reviewed(sim: AvitoSimulator, seeded: Seeded) -> Seeded:
    sim.add_review(FURNITURE_USER, 5, "Отличный диван", review_id=61001, created=NOW - 3000, answer="Спасибо!")
    sim.add_review(FURNITURE_USER, 2, "Доставку ждал неделю", review_id=61002, created=NOW - 2000, sender_name="Олег")
    sim.add_review(FURNITURE_USER, 4, "Хороший продавец", review_id=61003, created=NOW - 1000)
    sim.add_call(FURNITURE_USER, "79161112233", call_id=62001, call_time=NOW - 4000, record=demo_mp3())
    sim.add_call(FURNITURE_USER, "79035554433", call_id=62002, call_time=NOW - 600)  # not ready yet
    return seeded


def test_an_operator_answers_a_review(
    page: WebDriver, stack: LocalStack, sim: AvitoSimulator, reviewed: Seeded
) -> None:
    account_id = reviewed.account_id(FURNITURE_USER)
    sign_in(page, stack, role="operator", view=f"#/reviews/{account_id}")
    wait_for(page, lambda d: len(all_of(d, tid("review"))) == 3, "three reviews")
    order = [card.get_attribute("data-review-id") for card in all_of(page, tid("review"))]
    assert order == ["61003", "61002", "61001"]  # the two unanswered (newest first), then the answered one
    assert "Рейтинг 3,7" in visible(page, tid("reviews-rating")).text
    card = tid("review", reviewId="61002")
    visible(page, card + " " + tid("answer-text")).send_keys("Извините за задержку, Олег!")
    click(page, card + " " + tid("answer-send"))
    wait_for(page, lambda d: all_of(d, card + " " + tid("review-answer")), "the answer shown")
    assert visible(page, card + " " + tid("review-answer")).get_attribute("data-status") == "moderation"
    assert "на модерации" in visible(page, card).text
    answered = next(r for r in sim.reviews(FURNITURE_USER) if r["id"] == 61002)
    assert answered["answer"]["text"] == "Извините за задержку, Олег!"
    # answered now: it moved below the one still waiting
    order = [c.get_attribute("data-review-id") for c in all_of(page, tid("review"))]
    assert order[0] == "61003"


def test_a_call_plays_and_a_missing_recording_is_explained(
    page: WebDriver, stack: LocalStack, reviewed: Seeded
) -> None:
    sign_in(page, stack, role="operator", view=f"#/reviews/{reviewed.account_id(FURNITURE_USER)}")
    click(page, tid("call-row", callId="62001") + " " + tid("call-play"))
    player = visible(page, tid("call-player"))
    wait_for(page, lambda d: (player.get_attribute("src") or "").startswith("blob:"), "the recording loaded")
    assert player.get_attribute("data-call-id") == "62001"
    click(page, tid("call-row", callId="62002") + " " + tid("call-play"))
    wait_for(page, lambda d: "Записи пока нет" in visible(d, tid("reviews-notice")).text, "not ready explained")
