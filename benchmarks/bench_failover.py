"""What a failover that moves no one costs, against calling the first vendor's client directly.

Run: ``.venv/bin/python benchmarks/bench_failover.py`` (about a minute; ``--quick`` for a smoke
run). In-process state, over ``httpx.MockTransport``, in the same run and interleaved: each
round times every variant once, and the ratio is the median of the rounds' ratios with their
spread (lowest to highest).

- Twilio, one recipient per request: ``client.post`` for each recipient and its outcome read
  (what a caller does without a failover), against ``Failover([twilio, vonage])`` with the same
  send, Twilio accepting every recipient.
- Tencent Cloud SMS, 100 numbers in one request with a status per number: the client call and
  its outcome, against the failover, which matches every item to its recipient.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import httpx

import normalizer

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import compared, rounds_of  # noqa: E402

TWILIO = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json"
VONAGE = "https://rest.nexmo.com/sms/json"
TENCENT = "https://sms.tencentcloudapi.com/"

CREATED = httpx.Response(201, json={"sid": "SM1", "status": "queued"}).content


def twilio(request: httpx.Request) -> httpx.Response:
    return httpx.Response(201, content=CREATED, headers={"content-type": "application/json"})


def vonage(request: httpx.Request) -> httpx.Response:  # never reached: no one moves
    raise AssertionError("a failover that moves no one never calls the second vendor")


NUMBERS = [f"+86138{n:08d}" for n in range(100)]
BATCH = httpx.Response(
    200,
    json={
        "Response": {
            "SendStatusSet": [{"PhoneNumber": n, "Code": "Ok", "SerialNo": n} for n in NUMBERS],
            "RequestId": "r",
        }
    },
).content


def tencent(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, content=BATCH, headers={"content-type": "application/json"})


def main() -> None:
    quick = "--quick" in sys.argv
    # many short rounds: the two variants of a round run milliseconds apart, so a round's ratio
    # survives a machine busy with other work (the median of the rounds' ratios is reported)
    rounds, calls = (3, 5) if quick else (401, 20)
    batches = 2 if quick else 8
    one = ["+15005550001"]
    with (
        normalizer.Client("twilio", transport=httpx.MockTransport(twilio)) as tw,
        normalizer.Client("vonage", transport=httpx.MockTransport(vonage)) as vo,
        normalizer.Client("tencent_sms", transport=httpx.MockTransport(tencent)) as tc,
    ):

        def send_twilio(recipients: list[str]) -> list[httpx.Response]:
            return [tw.post(TWILIO, data={"To": to, "Body": "hi"}) for to in recipients]

        def send_vonage(recipients: list[str]) -> list[httpx.Response]:
            return [vo.post(VONAGE, data={"to": to, "text": "hi"}) for to in recipients]

        def send_tencent(recipients: list[str]) -> httpx.Response:
            return tc.post(TENCENT, json={"PhoneNumberSet": recipients})

        single = normalizer.Failover([("twilio", send_twilio), ("vonage", send_vonage)])
        batch = normalizer.Failover([("tencent_sms", send_tencent), ("vonage", send_vonage)])

        def direct_single() -> None:
            for _ in range(calls):
                for response in send_twilio(one):
                    outcome = normalizer.outcome_of(response)
                    assert outcome is not None
                    assert outcome.ok

        def failover_single() -> None:
            for _ in range(calls):
                assert single(one).ok

        def direct_batch() -> None:
            for _ in range(batches):
                outcome = normalizer.outcome_of(send_tencent(NUMBERS))
                assert outcome is not None
                assert outcome.ok

        def failover_batch() -> None:
            for _ in range(batches):
                assert batch(NUMBERS).ok

        single_variants = {
            "Twilio client directly (post, outcome read)": direct_single,
            "Failover([twilio, vonage]), no move": failover_single,
        }
        batch_variants = {
            "Tencent client directly (post, outcome read)": direct_batch,
            "Failover([tencent_sms, vonage]), no move": failover_batch,
        }
        for name, clock in (("wall time", time.perf_counter), ("CPU time", time.thread_time)):
            compared(
                f"Twilio, one recipient: failover moving no one vs the client ({name})",
                rounds_of(single_variants, rounds, clock),
                calls,
            )
            compared(
                f"Tencent SMS, 100 numbers a request: failover moving no one vs the client "
                f"({name})",
                rounds_of(batch_variants, rounds, clock),
                batches,
            )


if __name__ == "__main__":
    main()
