"""normalizer.requests: a requests.Session with NormalizingAdapter mounted gets what an httpx
client on NormalizingTransport gets, its HTTP mocked with ``responses`` or served on 127.0.0.1."""

from __future__ import annotations

import gzip
import json
import logging
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
import responses
import tenacity
import urllib3

import normalizer
from normalizer import Category, CircuitBreaker, RetryPolicy
from normalizer._store import Store
from normalizer.requests import NormalizingAdapter
from tests.sdk.conftest import transport_attempts

TWILIO = "https://api.twilio.com/2010-04-01/Accounts/AC123/Messages.json"
CORPUS = Path(__file__).parent / "corpus" / "real"


def twilio_error(code: int, message: str, status: int) -> dict[str, Any]:
    return {"code": code, "message": message, "more_info": "", "status": status}


QUEUED = {"sid": "SM1", "status": "queued", "error_code": None}
BUSY = (429, twilio_error(20429, "Too Many Requests", 429))


def session(vendor: str | None = "twilio", **options: Any) -> requests.Session:
    s = requests.Session()
    adapter = NormalizingAdapter(vendor, **options)
    s.mount("https://", adapter)
    s.mount("http://", adapter)
    return s


def mocked(mock: responses.RequestsMock, url: str, answers: list[tuple[int, Any]]) -> None:
    for status, body in answers:
        if isinstance(body, BaseException):
            mock.add(responses.POST, url, body=body)
        else:
            mock.add(responses.POST, url, json=body, status=status)


# --- the package --------------------------------------------------------------------------


def test_import_normalizer_never_imports_requests() -> None:
    code = (
        "import sys, normalizer\n"
        "normalizer.Client, normalizer.raise_for_outcome, normalizer.NormalizingTransport\n"
        "assert 'requests' not in sys.modules, 'requests imported'\n"
        "import normalizer.requests\n"
        "assert 'requests' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_module_s_surface_is_the_adapter() -> None:
    import normalizer.requests as module

    assert module.__all__ == ["NormalizingAdapter"]
    assert module.NormalizingAdapter.__module__ == "normalizer.requests"


def test_the_adapter_s_own_urllib3_retries_stay_off() -> None:
    adapter = NormalizingAdapter("twilio")
    assert adapter.max_retries.total == 0
    assert adapter.options.retry is not None  # normalizer's policy decides instead


def test_an_adapter_retrying_on_its_own_is_refused() -> None:
    with pytest.raises(ValueError, match="max_retries=0"):
        NormalizingAdapter("twilio", adapter=requests.adapters.HTTPAdapter(max_retries=3))
    NormalizingAdapter("twilio", adapter=requests.adapters.HTTPAdapter())  # 0: accepted


def test_a_pickled_session_still_normalizes() -> None:
    """requests pickles a session with its adapters: the adapter's settings go along."""
    import pickle

    s = pickle.loads(pickle.dumps(session(retry=None, max_body_size=4096)))
    adapter = s.get_adapter(TWILIO)
    assert isinstance(adapter, NormalizingAdapter)
    assert (adapter.options.retry, adapter.options.max_body_size) == (None, 4096)
    with responses.RequestsMock() as mock:
        mocked(mock, TWILIO, [BUSY])
        outcome = normalizer.outcome_of(s.post(TWILIO, data={"To": "1"}))
    assert outcome is not None
    assert outcome.category is Category.BUSY


def test_options_or_their_keywords_not_both() -> None:
    options = normalizer.Options(raise_on_error=True)
    assert NormalizingAdapter(options=options).options is options
    with pytest.raises(TypeError, match="not both"):
        NormalizingAdapter(options=options, retry=None)


# --- classification equals the httpx client's ---------------------------------------------


def _records() -> list[dict[str, Any]]:
    found = []
    for path in sorted(CORPUS.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            if record.get("method") and record.get("url") and record.get("status"):
                found.append(record)
    return found


def _answer_headers(record: dict[str, Any]) -> dict[str, str]:
    return {"Content-Type": record["content_type"]} if record.get("content_type") else {}


def _via_httpx(record: dict[str, Any]) -> tuple[normalizer.Outcome | None, int, bytes]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        body = record["body"].encode()
        return httpx.Response(record["status"], headers=_answer_headers(record), content=body)

    with normalizer.Client(transport=httpx.MockTransport(handler)) as client:
        response = client.request(
            record["method"], record["url"], headers=record.get("request_headers") or {}
        )
    return normalizer.outcome_of(response), len(seen), response.content


def _via_requests(record: dict[str, Any]) -> tuple[normalizer.Outcome | None, int, bytes]:
    with responses.RequestsMock() as mock:
        mock.add(
            record["method"],
            record["url"],
            body=record["body"].encode(),
            status=record["status"],
            # as the httpx mock's answer (and a real server's): its length declared
            headers={"Content-Length": str(len(record["body"].encode()))},
            content_type=record.get("content_type") or None,
        )
        response = session(None).request(
            record["method"], record["url"], headers=record.get("request_headers") or {}
        )
        return normalizer.outcome_of(response), len(mock.calls), response.content


def test_the_corpus_reads_the_same_through_requests_as_through_httpx() -> None:
    records = _records()
    assert len(records) > 200
    differ = []
    for record in records:
        expected, expected_sent, expected_body = _via_httpx(record)
        got, sent, body = _via_requests(record)
        if (got, sent, body) != (expected, expected_sent, expected_body):
            differ.append((record["id"], expected, got, expected_sent, sent))
    assert not differ
    # and it is a reading, not None twice: the vendors' hosts are recognised
    assert sum(_via_requests(r)[0] is not None for r in records[:20]) == 20


@pytest.mark.parametrize(
    ("answer", "category", "error"),
    [
        ((401, twilio_error(20003, "Authenticate", 401)), Category.AUTH, normalizer.AuthError),
        (
            (400, twilio_error(21211, "The 'To' number is not valid", 400)),
            Category.VALIDATION,
            normalizer.ValidationError,
        ),
        (BUSY, Category.BUSY, normalizer.BusyError),
        ((503, twilio_error(20503, "Service unavailable", 503)), Category.SERVER, None),
    ],
    ids=["auth", "validation", "limit", "busy-server"],
)
def test_auth_validation_limit_and_busy_answers(
    answer: tuple[int, Any], category: Category, error: type[normalizer.VendorError] | None
) -> None:
    with responses.RequestsMock() as mock:
        mocked(mock, TWILIO, [answer])
        response = session().post(TWILIO, data={"To": "+15005550006"})
        sent = len(mock.calls)
    outcome = normalizer.outcome_of(response)
    assert outcome is not None
    assert (outcome.vendor, outcome.category) == ("twilio", category)
    assert response.json() == answer[1]  # the body as the vendor sent it
    assert sent == transport_attempts("twilio", "POST", TWILIO, [answer])
    if error is not None:
        with pytest.raises(error):
            normalizer.raise_for_outcome(response)


def test_a_busy_answer_is_retried_exactly_as_the_transport_would() -> None:
    answers = [BUSY, BUSY, (201, QUEUED)]
    with responses.RequestsMock() as mock:
        mocked(mock, TWILIO, answers)
        response = session().post(TWILIO, data={"To": "+15005550006"})
        sent = len(mock.calls)
    assert response.status_code == 201
    assert response.json() == QUEUED
    outcome = normalizer.outcome_of(response)
    assert outcome is not None
    assert outcome.ok
    assert sent == 3 == transport_attempts("twilio", "POST", TWILIO, answers)


def test_busy_on_every_attempt_gives_up_as_the_transport_does() -> None:
    with responses.RequestsMock() as mock:
        mocked(mock, TWILIO, [BUSY])
        response = session().post(TWILIO, data={"To": "+15005550006"})
        sent = len(mock.calls)
    assert response.status_code == 429
    assert sent == transport_attempts("twilio", "POST", TWILIO, [BUSY]) == 3


def test_without_a_retry_policy_one_request() -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mocked(mock, TWILIO, [BUSY, (201, QUEUED)])
        response = session(retry=None).post(TWILIO, data={"To": "+15005550006"})
        assert len(mock.calls) == 1
    assert response.status_code == 429


# --- resend safety: what requests raised, judged as httpx's twin ----------------------------


def _refused() -> requests.ConnectionError:
    reason = urllib3.exceptions.NewConnectionError(None, "Connection refused")  # type: ignore[arg-type]
    return requests.ConnectionError(urllib3.exceptions.MaxRetryError(None, TWILIO, reason))  # type: ignore[arg-type]


def test_a_post_is_never_resent_after_a_read_timeout() -> None:
    timeout = requests.exceptions.ReadTimeout("read timed out")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mocked(mock, TWILIO, [(0, timeout), (201, QUEUED)])
        with pytest.raises(requests.exceptions.ReadTimeout) as raised:
            session().post(TWILIO, data={"To": "+15005550006"})
        assert len(mock.calls) == 1
    assert raised.value is timeout  # requests' own exception, as without normalizer


def test_a_post_is_resent_after_a_connection_never_made() -> None:
    with responses.RequestsMock() as mock:
        mocked(mock, TWILIO, [(0, _refused()), (201, QUEUED)])
        response = session().post(TWILIO, data={"To": "+15005550006"})
        assert len(mock.calls) == 2
    assert response.json() == QUEUED


def test_a_connection_never_made_on_every_attempt_raises_the_last_one() -> None:
    errors = [_refused() for _ in range(3)]
    with responses.RequestsMock() as mock:
        mocked(mock, TWILIO, [(0, e) for e in errors])
        with pytest.raises(requests.ConnectionError) as raised:
            session().post(TWILIO, data={"To": "+15005550006"})
        assert len(mock.calls) == 3
    assert raised.value is errors[-1]


def test_a_get_is_resent_after_a_read_timeout() -> None:
    url = TWILIO.replace(".json", "/SM1.json")
    with responses.RequestsMock() as mock:
        mock.add(responses.GET, url, body=requests.exceptions.ReadTimeout("slow"))
        mock.add(responses.GET, url, json=QUEUED)
        assert session().get(url).json() == QUEUED
        assert len(mock.calls) == 2


def test_the_deadline_bounds_each_attempt_s_timeouts() -> None:
    with responses.RequestsMock() as mock:
        mocked(mock, TWILIO, [BUSY, (201, QUEUED)])
        s = session(retry=RetryPolicy(deadline=5.0))
        s.post(TWILIO, data={"To": "1"}, timeout=(30, 60))
        timeouts = [call.request.req_kwargs["timeout"] for call in mock.calls]  # type: ignore[attr-defined]
    assert len(timeouts) == 2
    for connect, read in timeouts:
        assert 0 < connect <= 5.0
        assert 0 < read <= 5.0


def test_the_caller_s_timeout_is_passed_on_as_it_was() -> None:
    with responses.RequestsMock() as mock:
        mocked(mock, TWILIO, [(201, QUEUED)])
        session().post(TWILIO, data={"To": "1"}, timeout=(3.05, 27))
        assert mock.calls[0].request.req_kwargs["timeout"] == (3.05, 27)  # type: ignore[attr-defined]


# --- the body, byte for byte ----------------------------------------------------------------

GARBLED = b'{"code": 20429, "message": "\xff\xfe broken \xc3'
BODIES = {
    "html": (503, "text/html", b"<html><body>Service Unavailable</body></html>", {}),
    "empty": (200, "application/json", b"", {}),
    "garbled": (429, "application/json", GARBLED, {}),
    "text": (200, "text/plain", b"OK 12345", {}),
    "gzip": (
        400,
        "application/json",
        gzip.compress(json.dumps(twilio_error(21211, "bad", 400)).encode()),
        {"Content-Encoding": "gzip"},
    ),
    "file": (200, "audio/mpeg", bytes(range(256)) * 64, {}),
}


@pytest.mark.parametrize("stream", [False, True], ids=["loaded", "stream"])
@pytest.mark.parametrize("kind", sorted(BODIES))
def test_the_body_is_what_requests_alone_gives(kind: str, stream: bool) -> None:
    status, content_type, body, headers = BODIES[kind]

    def fetch(s: requests.Session) -> requests.Response:
        with responses.RequestsMock() as mock:
            mock.add(
                responses.POST,
                TWILIO,
                body=body,
                status=status,
                content_type=content_type,
                headers=headers,
            )
            response = s.post(TWILIO, data={"To": "1"}, stream=stream)
            content = response.content
            assert len(mock.calls) >= 1
        assert content == response.content
        return response

    plain = fetch(requests.Session())
    normalized = fetch(session(retry=None))
    assert normalized.content == plain.content
    assert normalized.status_code == plain.status_code
    assert dict(normalized.headers) == dict(plain.headers)
    assert normalizer.outcome_of(normalized) is not None
    assert normalizer.outcome_of(plain) is None


def test_a_compressed_answer_is_classified_and_decoded_for_the_caller() -> None:
    _, _, body, _ = BODIES["gzip"]
    with responses.RequestsMock() as mock:
        mock.add(
            responses.POST,
            TWILIO,
            body=body,
            status=400,
            content_type="application/json",
            headers={"Content-Encoding": "gzip"},
        )
        response = session().post(TWILIO, data={"To": "1"})
    outcome = normalizer.outcome_of(response)
    assert outcome is not None
    assert (outcome.category, outcome.code) == (Category.VALIDATION, "21211")
    assert response.json()["code"] == 21211


@pytest.mark.parametrize(
    "read",
    [lambda r: b"".join(r.iter_content(1000)), lambda r: r.raw.read()],
    ids=["iter_content", "raw"],
)
def test_a_streamed_answer_read_to_classify_is_whole_for_the_caller(
    read: Callable[[requests.Response], bytes],
) -> None:
    payload = json.dumps({"code": 21211, "message": "x" * 70000}).encode()
    with responses.RequestsMock() as mock:
        mock.add(responses.POST, TWILIO, body=payload, status=400, content_type="application/json")
        response = session().post(TWILIO, data={"To": "1"}, stream=True)
        assert normalizer.outcome_of(response).code == "21211"  # type: ignore[union-attr]
        assert read(response) == payload


def test_session_cookies_are_kept_from_a_replayed_answer() -> None:
    with responses.RequestsMock() as mock:
        mock.add(
            responses.POST,
            TWILIO,
            json=QUEUED,
            status=201,
            headers={"Set-Cookie": "sticky=abc; Path=/"},
        )
        s = session()
        s.post(TWILIO, data={"To": "1"}, stream=True)
    assert s.cookies.get("sticky") == "abc"


def test_hosts_no_mapping_claims_pass_through_unread() -> None:
    with responses.RequestsMock() as mock:
        mock.add(responses.GET, "https://example.org/x", json={"code": 1}, status=500)
        response = session(None).get("https://example.org/x")
        assert len(mock.calls) == 1  # a 500 from nobody's vendor: not retried
    assert normalizer.outcome_of(response) is None
    assert response.json() == {"code": 1}


# --- a real server on 127.0.0.1: streaming, and a connection dropped mid-answer ---------------


class RawServer:
    """Answers each connection with ``reply(connection)``; counts connections."""

    def __init__(self, reply: Callable[[socket.socket], None]) -> None:
        self.reply = reply
        self.count = 0
        self.stopped = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.listener.settimeout(0.05)
        while not self.stopped.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            connection.settimeout(None)
            self.count += 1
            threading.Thread(target=self._one, args=(connection,), daemon=True).start()

    def _one(self, connection: socket.socket) -> None:
        with connection:
            _read_request(connection)
            self.reply(connection)

    def close(self) -> None:
        self.stopped.set()
        self.thread.join(5)
        self.listener.close()


def _read_request(connection: socket.socket) -> None:
    data = b""
    while b"\r\n\r\n" not in data:
        data += connection.recv(65536)
    head, _, rest = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    while len(rest) < length:
        rest += connection.recv(65536)


@pytest.fixture
def serve() -> Iterator[Callable[[Callable[[socket.socket], None]], RawServer]]:
    servers: list[RawServer] = []

    def start(reply: Callable[[socket.socket], None]) -> RawServer:
        servers.append(RawServer(reply))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


@pytest.mark.parametrize("content_type", ["application/octet-stream", "text/plain"])
def test_a_large_body_streams_to_the_caller(
    serve: Callable[[Callable[[socket.socket], None]], RawServer], content_type: str
) -> None:
    """The server sends the first MB, then waits until the caller has read it: a response
    buffered before it reached the caller would never come (the test would time out)."""
    first = b"a" * (1 << 20)
    read_first = threading.Event()
    in_time: list[bool] = []

    def reply(connection: socket.socket) -> None:
        head = f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nConnection: close\r\n\r\n"
        connection.sendall(head.encode() + first)
        in_time.append(read_first.wait(5))  # False: nobody read the first MB before the rest
        connection.sendall(b"b" * (1 << 20))

    server = serve(reply)
    url = f"http://127.0.0.1:{server.port}/2010-04-01/Accounts/AC1/Recordings/RE1.mp3"
    response = session().get(url, stream=True, timeout=10)
    assert normalizer.outcome_of(response) is not None
    got = b""
    chunks = response.iter_content(65536)
    while len(got) < len(first):
        got += next(chunks)
    assert not read_first.is_set()
    read_first.set()
    got += b"".join(chunks)
    assert got == first + b"b" * (1 << 20)
    assert in_time == [True]


def test_a_connection_dropped_mid_answer_is_not_resent_for_a_post(
    serve: Callable[[Callable[[socket.socket], None]], RawServer],
) -> None:
    server = serve(lambda connection: None)  # reads the request, closes without answering
    url = f"http://127.0.0.1:{server.port}/2010-04-01/Accounts/AC1/Messages.json"
    with pytest.raises(requests.ConnectionError):
        session().post(url, data={"To": "1"}, timeout=5)
    assert server.count == 1
    with pytest.raises(requests.ConnectionError):
        session().get(url, timeout=5)  # a GET may go again
    assert server.count == 1 + 3


def test_a_refused_connection_is_retried_and_raises_requests_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="normalizer")
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()  # nobody listens there now
    with pytest.raises(requests.ConnectionError) as raised:
        session().post(f"http://127.0.0.1:{port}/2010-04-01/Accounts/AC1/Messages.json", data={})
    assert isinstance(raised.value.args[0], urllib3.exceptions.MaxRetryError)
    failed = [r.getMessage() for r in caplog.records if "vendor_call_failed" in r.getMessage()]
    assert len(failed) == 3  # never sent: resent even for a POST
    assert all("error=ConnectError" in line for line in failed)


# --- raise_on_error, state, logging ----------------------------------------------------------


def test_raise_on_error_raises_the_typed_error_with_requests_objects() -> None:
    answer = (400, twilio_error(21211, "The 'To' number +15005550006 is not valid", 400))
    with responses.RequestsMock() as mock:
        mocked(mock, TWILIO, [answer])
        with pytest.raises(normalizer.ValidationError) as raised:
            session(raise_on_error=True).post(TWILIO, data={"To": "+15005550006"})
    error = raised.value
    assert isinstance(error.response, requests.Response)
    assert isinstance(error.request, requests.PreparedRequest)
    assert error.response.json() == answer[1]  # loaded, as requests gives it
    assert (error.code, error.status_code, error.attempts) == ("21211", 400, 1)
    assert "+15005550006" not in str(error)  # masked


def test_raise_on_error_after_the_retries_counts_them() -> None:
    with responses.RequestsMock() as mock:
        mocked(mock, TWILIO, [BUSY])
        with pytest.raises(normalizer.BusyError) as raised:
            session(raise_on_error=True).post(TWILIO, data={"To": "1"})
        assert len(mock.calls) == 3
    assert raised.value.attempts == 3


def test_a_user_s_tenacity_reads_the_adapter_s_error() -> None:
    """retry_if_retryable around a raising session: the error is judged by its outcome (a
    busy 429 is refused before Twilio acts) and its answer's Retry-After."""
    s = session(retry=None, raise_on_error=True)
    retry = tenacity.Retrying(
        retry=normalizer.retry_if_retryable(),
        wait=normalizer.wait_vendor(),
        stop=normalizer.stop_vendor(),
        sleep=lambda seconds: None,
        reraise=True,
    )
    with responses.RequestsMock() as mock:
        mock.add(responses.POST, TWILIO, json=BUSY[1], status=429, headers={"Retry-After": "1"})
        mocked(mock, TWILIO, [(201, QUEUED)])
        response = retry(lambda: s.post(TWILIO, data={"To": "1"}))
        assert len(mock.calls) == 2
    assert response.json() == QUEUED


def test_an_open_circuit_refuses_before_sending(store: Store) -> None:
    """In process and on Redis (a sync store): the circuit's state is the store's."""
    s = session(retry=None, circuit=CircuitBreaker(failures=2), state=store)
    with responses.RequestsMock() as mock:
        mocked(mock, TWILIO, [(500, twilio_error(20500, "Internal", 500))])
        s.post(TWILIO, data={"To": "1"})
        s.post(TWILIO, data={"To": "1"})
        with pytest.raises(normalizer.CircuitOpenError):
            s.post(TWILIO, data={"To": "1"})
        assert len(mock.calls) == 2


def test_logging_redacts_numbers_and_secrets(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="normalizer")
    answer = (400, twilio_error(21211, "The 'To' number +15005550006 is not valid", 400))
    with responses.RequestsMock() as mock:
        mocked(mock, TWILIO.replace("AC123", "ACsecret0123456789"), [answer])
        session(log_bodies=True).post(
            TWILIO.replace("AC123", "ACsecret0123456789"),
            data={"To": "+15005550006", "Body": "hi"},
            auth=("ACsecret0123456789", "tok3n"),
        )
    lines = "\n".join(r.getMessage() for r in caplog.records if r.name == "normalizer")
    assert "vendor_call_failed" in lines
    assert "21211" in lines
    assert "5550006" not in lines
    assert "ACsecret0123456789" not in lines
    assert "tok3n" not in lines


def test_a_digest_challenge_is_a_hop_not_an_error() -> None:
    """requests' HTTPDigestAuth answers the 401 with a second request through the adapter:
    with raise_on_error the challenge is not raised, the answered request is the call's."""
    challenge = 'Digest realm="api", nonce="abc", qop="auth", algorithm="MD5"'
    with responses.RequestsMock() as mock:
        mock.add(
            responses.POST,
            TWILIO,
            status=401,
            json=twilio_error(20003, "Authenticate", 401),
            headers={"WWW-Authenticate": challenge},
        )
        mocked(mock, TWILIO, [(201, QUEUED)])
        s = session(raise_on_error=True)
        response = s.post(TWILIO, data={"To": "1"}, auth=requests.auth.HTTPDigestAuth("a", "b"))
        assert len(mock.calls) == 2
        assert "Digest" in mock.calls[1].request.headers["Authorization"]
    assert response.status_code == 201
    assert normalizer.outcome_of(response).ok  # type: ignore[union-attr]


def test_another_adapter_does_the_io() -> None:
    """``adapter=``: an SDK's own adapter sends; normalizer decides around it."""
    sent: list[str] = []

    class Counting(requests.adapters.HTTPAdapter):
        def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
            sent.append(str(kwargs.get("stream")))
            return super().send(request, **kwargs)

    inner = Counting()
    s = requests.Session()
    s.mount("https://", NormalizingAdapter("twilio", adapter=inner))
    with responses.RequestsMock() as mock:
        mocked(mock, TWILIO, [BUSY, (201, QUEUED)])
        assert s.post(TWILIO, data={"To": "1"}).json() == QUEUED
    assert sent == ["True", "True"]  # two attempts, each through the inner adapter, streamed
    assert inner.max_retries.total == 0


def test_a_streamed_upload_is_never_sent_twice() -> None:
    """A file or generator body goes once (requests cannot send it again as it was); the same
    answer to a bytes body is resent."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mocked(mock, TWILIO, [BUSY, (201, QUEUED)])
        response = session().post(TWILIO, data=iter([b"To=", b"1"]))
        assert len(mock.calls) == 1
    assert response.status_code == 429
    with responses.RequestsMock() as mock:
        mocked(mock, TWILIO, [BUSY, (201, QUEUED)])
        assert session().post(TWILIO, data=b"To=1").status_code == 201
        assert len(mock.calls) == 2
