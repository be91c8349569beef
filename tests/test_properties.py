"""Property-based tests: whatever a vendor sends, nothing raises and nothing is lost.

Part of the reliability work: generated bodies, content types, statuses and headers through
the classifier and the transports, and mutated mapping files through the loader.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import normalizer
from normalizer import Category, MappingError, Outcome
from normalizer._mapping import _check_document, build, load_file
from tests.conftest import ACME

VENDORS = ["ucpaas", "huawei_isales", "mango", "airudder", "onbuka"]
CODE_KEYS = ["code", "result", "status", "resultCode", "returnCode", "ret", "respCode", "resp"]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.sampled_from(["0", "000000", "0200001", "-3", "5001", "107225", "2219", "200", "1000"]),
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.one_of(st.sampled_from(CODE_KEYS), st.text(max_size=8)), children, max_size=4
        ),
    ),
    max_leaves=20,
)
bodies = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.builds(
        lambda d, v: (("[" * d) + json.dumps(v) + ("]" * d)).encode(),
        st.integers(0, 3000),
        json_values,
    ),
)
header_text = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40)
statuses = st.integers(min_value=100, max_value=599)
content_types = st.one_of(
    st.sampled_from(
        [
            "application/json",
            "application/json; charset=gbk",
            "text/html",
            "text/plain",
            "audio/mpeg",
            "",
            "application/octet-stream",
            "application/json; charset=nonsense",
            "text/csv",
        ]
    ),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=30),
)
FAST = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@FAST
@given(
    vendor=st.sampled_from(VENDORS),
    body=bodies,
    status=statuses,
    product=st.sampled_from([None, "sms", "ai_voice"]),
)
def test_classify_never_raises(vendor: str, body: bytes, status: int, product: str | None) -> None:
    if product is not None and vendor != "onbuka":
        product = None
    outcome = normalizer.classify(vendor, body, status_code=status, product=product)
    assert isinstance(outcome, Outcome)
    assert outcome.category in set(Category)
    assert outcome.code is None or isinstance(outcome.code, str)


@FAST
@given(vendor=st.sampled_from(VENDORS), value=json_values)
def test_classify_parsed_json_of_any_shape(vendor: str, value: object) -> None:
    outcome = normalizer.classify(vendor, value if isinstance(value, dict | list) else None)
    assert outcome.category in set(Category)


@FAST
@given(
    body=bodies,
    status=statuses,
    content_type=content_types,
    retry_after=st.one_of(st.none(), header_text, st.integers(-(10**30), 10**30).map(str)),
    method=st.sampled_from(["GET", "POST", "HEAD", "DELETE"]),
)
def test_transport_returns_the_vendor_response_unchanged(
    body: bytes, status: int, content_type: str, retry_after: str | None, method: str
) -> None:
    headers = {"x-vendor": "1"}
    if content_type:
        headers["content-type"] = content_type
    if retry_after is not None:
        headers["retry-after"] = retry_after

    def vendor(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body, headers=headers)

    with normalizer.Client("mango", transport=httpx.MockTransport(vendor)) as client:
        response = client.request(method, "https://app.mango-office.ru/vpbx/x")
    assert response.status_code == status
    if method != "HEAD":
        assert response.content == body
    for key, value in headers.items():
        assert response.headers[key] == value
    outcome = normalizer.outcome_of(response)
    assert outcome is not None
    assert outcome.category in set(Category)
    assert 1 <= response.extensions["normalizer.attempts"] <= 3


@pytest.mark.anyio
async def test_async_transport_with_hostile_bodies() -> None:
    samples = [b"", b"\xff" * 50, b"[" * 5000, b'{"result": 5001', b"<html>x</html>"]
    for body in samples:
        async with normalizer.AsyncClient(
            "mango", transport=httpx.MockTransport(lambda r, b=body: httpx.Response(200, content=b))
        ) as client:
            response = await client.get("https://app.mango-office.ru/vpbx/x")
        assert response.content == body
        assert normalizer.outcome_of(response) is not None


MUTATIONS = st.lists(
    st.tuples(
        st.integers(min_value=0),
        st.sampled_from(["delete", "insert", "replace"]),
        st.sampled_from([*list('"[]{}=,.\n#xa1 \\'), "category", "codes", "true", "1e9"]),
    ),
    min_size=1,
    max_size=6,
)


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(mutations=MUTATIONS)
def test_mutated_mapping_files_load_or_fail_clearly(
    mutations: list[tuple[int, str, str]], tmp_path: Path
) -> None:
    text = ACME
    for position, action, token in mutations:
        at = position % (len(text) + 1)
        if action == "delete":
            text = text[:at] + text[at + len(token) :]
        elif action == "insert":
            text = text[:at] + token + text[at:]
        else:
            text = text[:at] + token + text[at + 1 :]
    path = tmp_path / "fuzz.toml"
    path.write_text(text, encoding="utf-8")
    try:
        mapping = load_file(path)
    except MappingError as exc:
        error: MappingError | None = exc
    else:
        error = None
        assert mapping.id
    if error is not None:  # refused: with the file and a reason, never another exception
        assert error.path == str(path)
        assert error.reason


@settings(max_examples=300, deadline=None)
@given(
    doc=st.dictionaries(
        st.sampled_from(
            [
                "format",
                "vendor",
                "detect",
                "envelope",
                "codes",
                "classes",
                "http",
                "products",
                "junk",
            ]
        ),
        st.recursive(
            st.one_of(st.integers(0, 3), st.text(max_size=5), st.booleans()),
            lambda c: st.one_of(
                st.lists(c, max_size=3), st.dictionaries(st.text(max_size=6), c, max_size=3)
            ),
            max_leaves=10,
        ),
        max_size=6,
    )
)
def test_random_documents_fail_with_mapping_error(doc: dict[str, object]) -> None:
    """Any parsed TOML document either builds or is refused with a MappingError."""
    try:
        _check_document(doc, "random.toml")
        build(doc, ["random.toml"])
    except MappingError as exc:
        refused: MappingError | None = exc
    else:
        refused = None
    assert refused is None or refused.path == "random.toml"


def test_the_seed_mappings_survive_a_round_of_validation() -> None:
    for vendor in VENDORS:
        path = Path(normalizer.Registry().get(vendor).files[0])
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
        _check_document(doc, path)
        assert build(doc, [str(path)]).id == vendor
