"""The Outcome value: it crosses a process boundary whole (a worker returning it, a queue)."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

import normalizer
from normalizer import Category, Item, Outcome, Scope
from normalizer._outcome import derive

SMS = "https://rest.nexmo.com/sms/json"


def test_a_batch_outcome_pickles_whole_recipients_included() -> None:
    """Sent on purpose, an Outcome keeps everything (a worker resends the failed recipients);
    only an exception's copy is masked (tests/test_exceptions.py)."""
    body = {
        "messages": [
            {"status": "0", "to": "447700900000"},
            {"status": "9", "to": "447700900001", "error-text": "Partner quota exceeded"},
        ]
    }
    outcome = normalizer.classify("vonage", body, status_code=200, url=SMS)
    assert outcome.partial
    back = pickle.loads(pickle.dumps(outcome))
    assert back == outcome
    assert hash(back) == hash(outcome)
    assert back.failed_items[0].recipient == "447700900001"
    assert back.failed_items[0].category is Category.BILLING
    assert normalizer.retry_recipients(back) == normalizer.retry_recipients(outcome)


def test_an_ambiguous_outcome_pickles_with_its_candidates() -> None:
    outcome = normalizer.lookup("onbuka", "-3")
    back: Outcome = pickle.loads(pickle.dumps(outcome))
    assert back == outcome
    assert back.matched is normalizer.Match.AMBIGUOUS
    assert {c.product for c in back.candidates} == {c.product for c in outcome.candidates}
    assert len(back.candidates) == 2


def test_derive_is_the_constructor_with_some_fields_changed() -> None:
    """The one way an outcome is built past its template (issue 27 item 5): the same value the
    constructor gives, the template untouched."""
    template = Outcome(Category.BUSY, True, "mango", "5001", "Перегрузка", scope=Scope.VENDOR)
    out = derive(template, vendor_message="overloaded", http_status=200)
    assert out == Outcome(
        Category.BUSY,
        True,
        "mango",
        "5001",
        "Перегрузка",
        vendor_message="overloaded",
        http_status=200,
        scope=Scope.VENDOR,
    )
    assert hash(out) == hash(
        dataclasses.replace(template, vendor_message="overloaded", http_status=200)
    )
    assert template.vendor_message is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        out.code = "1"  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(out)) == out
    item = derive(Item(Category.OK, False, code="0"), index=3, recipient="447700900000")
    assert (item.index, item.recipient, item.ok) == (3, "447700900000", True)


def test_outcome_of_reads_what_carry_gave_another_librarys_response() -> None:
    import httpx

    from normalizer._outcome import OUTCOME_KEY, carry, extensions_of

    class Foreign:  # a requests or aiohttp response: no extensions of its own
        pass

    outcome = normalizer.lookup("mango", 5001)
    classified = httpx.Response(200, extensions={OUTCOME_KEY: outcome})
    foreign = Foreign()
    assert normalizer.outcome_of(foreign) is None
    carry(foreign, classified)
    assert normalizer.outcome_of(foreign) is outcome
    assert extensions_of(foreign)[OUTCOME_KEY] is outcome
    assert normalizer.outcome_of(42) is None  # not a response at all: no outcome, no error
    assert normalizer.outcome_of(classified) is outcome
