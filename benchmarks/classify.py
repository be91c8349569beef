"""Classification against the speed of parsing: the table of issue 28, in one run.

Run: ``.venv/bin/python benchmarks/classify.py`` (``--quick`` for a smoke run of seconds).

Each case is timed against its *floor*, measured in the same run over the same bodies:
``orjson.loads`` (the standard library's ``json`` without orjson), walking to the vendor's code
and one ``dict.get`` of it (per item for a report). Bodies vary per call: every iteration takes
the next of a pool of distinct bodies whose message and request ids differ, so no cache keyed on
the body can answer. Floor and ``classify()`` take turns, round after round; the figures are the
median of the rounds and their spread (lowest to highest).

Then, each in fresh processes: ``import normalizer`` against ``import httpx`` (20 processes
each, interleaved, median; also with httpx imported too, and with the clients' first use), and
the first ``lookup`` of every built-in vendor, with the compiled cache present and without it
(``NORMALIZER_CACHE_DIR=""``).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from typing import Any

import normalizer
from normalizer import _classify

loads: Callable[[bytes], Any]
try:
    from orjson import loads
except ImportError:  # pragma: no cover - depends on the environment
    loads = json.loads

Case = tuple[str, list[bytes], dict[str, Any], Callable[[bytes], object], int]
"""(name, bodies, classify keywords, floor function, items per body)"""


def onbuka(n: int) -> bytes:
    array = [
        {"msgId": f"{2108021054011000000 + n * 3 + i}", "number": f"9185632{n % 10000:04d}{i}",
         "orderId": f"{n}-{i}"}
        for i in range(3)
    ]  # fmt: skip
    body = {"status": "0", "reason": "success", "success": "3", "fail": "0", "array": array}
    return json.dumps(body).encode()


def twilio(n: int) -> bytes:
    body = {
        "code": 21211,
        "message": f"The 'To' number +1555{n % 10_000_000:07d} is not a valid phone number.",
        "more_info": "https://www.twilio.com/docs/errors/21211",
        "status": 400,
    }
    return json.dumps(body).encode()


def mango(n: int) -> bytes:
    return json.dumps({"result": 3103, "command_id": f"cmd-{n}"}).encode()


def vonage(n: int) -> bytes:
    messages = [
        {"to": f"4477009{n % 100000:05d}", "message-id": f"0A000000{n:08X}{i}", "status": "0",
         "remaining-balance": "3.14159", "message-price": "0.03330000", "network": "12345"}
        for i in range(2)
    ]  # fmt: skip
    return json.dumps({"message-count": "2", "messages": messages}).encode()


def tencent(n: int) -> bytes:
    body = {
        "Response": {
            "SendStatusSet": [
                {"SerialNo": f"5000:{n}-{i}", "PhoneNumber": f"+86138{n % 100000:05d}{i:03d}",
                 "Fee": 1, "SessionContext": "", "Code": "Ok", "Message": "send success",
                 "IsoCode": "CN"}
                for i in range(2)
            ],
            "RequestId": f"a0aabda6-cf91-4f3e-a81f-{n:012d}",
        }
    }  # fmt: skip
    return json.dumps(body, ensure_ascii=False).encode()


def tencent_report(n: int, size: int = 1000) -> bytes:
    reports = [
        {"user_receive_time": "2015-10-17 08:03:04", "nationcode": "86",
         "mobile": f"138{(n * size + i) % 100_000_000:08d}",
         "report_status": "SUCCESS" if i % 10 else "FAIL",
         "errmsg": "DELIVRD" if i % 10 else "MK:0001",
         "description": "用户短信送达成功" if i % 10 else "空号", "sid": f"{n}:{i}"}
        for i in range(size)
    ]  # fmt: skip
    return json.dumps(reports, ensure_ascii=False).encode()


def infobip_report(n: int, size: int = 1000) -> bytes:
    results = [
        {"bulkId": f"bulk-{n}", "messageId": f"{n}-{i}", "to": f"4179{(n * size + i) % 10**7:07d}",
         "sentAt": "2019-11-09T16:00:00.000+0000", "doneAt": "2019-11-09T16:00:00.000+0000",
         "smsCount": 1, "price": {"pricePerMessage": 0.01, "currency": "EUR"},
         "status": {"groupId": 3, "groupName": "DELIVERED", "id": 5,
                    "name": "DELIVERED_TO_HANDSET", "description": "Message delivered to handset"},
         "error": {"groupId": 0, "groupName": "OK", "id": 0, "name": "NO_ERROR",
                   "description": "No Error", "permanent": False}}
        for i in range(size)
    ]  # fmt: skip
    return json.dumps({"results": results}).encode()


CODES = {"0": 1}


def floor_top(*path: str | int) -> Callable[[bytes], object]:
    """orjson.loads, walking to the code, one dict.get."""

    def floor(body: bytes) -> object:
        node: Any = loads(body)
        for key in path:
            node = node[key]
        return CODES.get(node)

    return floor


def floor_items(container: tuple[str, ...], *code: str) -> Callable[[bytes], object]:
    """orjson.loads, then per item: walking to its code, one dict.get."""

    def floor(body: bytes) -> object:
        node: Any = loads(body)
        for key in container:
            node = node[key]
        get = CODES.get
        last = None
        for item in node:
            value = item
            for key in code:
                value = value[key]
            last = get(value)
        return last

    return floor


def cases(quick: bool) -> list[Case]:
    singles = 64 if quick else 4096
    reports = 4 if quick else 32
    return [
        (
            "Onbuka success (array of 3)",
            [onbuka(n) for n in range(singles)],
            {"vendor": "onbuka", "url": "https://api.onbuka.com/v3/sendSms"},
            floor_top("status"),
            1,
        ),
        (
            "Twilio error (HTTP 400)",
            [twilio(n) for n in range(singles)],
            {
                "vendor": "twilio",
                "status_code": 400,
                "url": "https://api.twilio.com/2010-04-01/Accounts/AC123/Messages.json",
            },
            floor_top("code"),
            1,
        ),
        (
            "MANGO error",
            [mango(n) for n in range(singles)],
            {"vendor": "mango"},
            floor_top("result"),
            1,
        ),
        (
            "Vonage (2 parts)",
            [vonage(n) for n in range(singles)],
            {"vendor": "vonage", "url": "https://rest.nexmo.com/sms/json"},
            floor_top("messages", 0, "status"),
            1,
        ),
        (
            "Tencent SendSms (2 numbers)",
            [tencent(n) for n in range(singles)],
            {"vendor": "tencent_sms", "url": "https://sms.tencentcloudapi.com/"},
            floor_top("Response", "SendStatusSet", 0, "Code"),
            1,
        ),
        (
            "Tencent report, 1,000 items",
            [tencent_report(n) for n in range(reports)],
            {"vendor": "tencent_sms"},
            floor_items((), "report_status"),
            1000,
        ),
        (
            "Infobip report, 1,000 items",
            [infobip_report(n) for n in range(reports)],
            {"vendor": "infobip", "url": "https://xyz.api.infobip.com/sms/1/reports"},
            floor_items(("results",), "status", "name"),
            1000,
        ),
    ]


def rotate(bodies: list[bytes]) -> Iterator[bytes]:
    while True:
        yield from bodies


def timed(loop: Callable[[list[bytes]], None], bodies: Iterator[bytes], number: int) -> float:
    """Seconds per body of ``loop`` over the next ``number`` bodies (fetched before timing)."""
    batch = [next(bodies) for _ in range(number)]
    start = time.perf_counter()
    loop(batch)
    return (time.perf_counter() - start) / number


def floor_loop(floor: Callable[[bytes], object]) -> Callable[[list[bytes]], None]:
    def loop(batch: list[bytes]) -> None:
        for body in batch:
            floor(body)

    return loop


def classifier(keywords: dict[str, Any]) -> Callable[[list[bytes]], None]:
    """``classify()`` called as an application calls it: once a body, straight from the loop,
    its keywords written out, as the floor's function is called. (A closure passing
    ``**options`` on, as this benchmark had it until the fifth session, added a call and a
    dict unpacked to every body: 0.1-0.2 us, a third of the floor of a small body.)"""
    vendor = keywords["vendor"]
    url = keywords.get("url")
    status = keywords.get("status_code", 200)
    classify = normalizer.classify

    def loop(batch: list[bytes]) -> None:
        for body in batch:
            classify(vendor, body, status_code=status, url=url)

    return loop


def measure(quick: bool) -> list[tuple[str, list[float], list[float], int]]:
    """Per case: floor seconds per round, classify seconds per round, items per body."""
    rounds = 3 if quick else 15
    out = []
    for name, bodies, keywords, floor, items in cases(quick):
        assert set(keywords) <= {"vendor", "url", "status_code"}, keywords
        call, floors_of = classifier(keywords), floor_loop(floor)
        call(bodies[:1])  # warm: the mapping loaded
        number = max(2, (2 if quick else 60) * 1000 // (items * 50))
        floors, mine = [], []
        stream = rotate(bodies)
        for _ in range(rounds):
            floors.append(timed(floors_of, stream, number))
            mine.append(timed(call, stream, number))
        out.append((name, floors, mine, items))
    return out


def spread(values: list[float]) -> str:
    return f"{min(values):.2f}-{max(values):.2f}"


def show(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms" if seconds >= 1e-3 else f"{seconds * 1e6:.2f} us"


def classification(quick: bool) -> None:
    parser = "orjson" if _classify.fast_loads is not None else "json (no orjson)"
    print(f"## classify() against its floor ({parser}; median of rounds, spread lowest-highest)")
    print(
        f"{'body':<32} {'classify()':>12} {'floor':>10} {'ratio':>7} {'spread':>11} {'items/s':>9}"
    )
    for name, floors, mine, items in measure(quick):
        ratios = [m / f for m, f in zip(mine, floors, strict=True)]
        per_call = statistics.median(mine)
        rate = f"{items / per_call / 1000:.0f}k" if items > 1 else ""
        print(
            f"{name:<32} {show(per_call):>12} {show(statistics.median(floors)):>10} "
            f"{statistics.median(ratios):>6.1f}x {spread(ratios):>11} {rate:>9}"
        )


def environment(**changes: str) -> dict[str, str]:
    """This environment for a fresh process, with bytecode written (as an installed package
    has it: PYTHONDONTWRITEBYTECODE would time the compiler instead)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, **changes}


def fresh(code: str, env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env=env or environment())
    return time.perf_counter() - start


IMPORTS = {
    "import normalizer": "import normalizer",
    "import httpx, normalizer": "import httpx, normalizer",
    "normalizer.Client too": "import normalizer; normalizer.Client",
}
"""What is timed against ``import httpx``: a plain import (the classifier: it needs no httpx),
the same where httpx is imported anyway, and the whole surface (the clients' first use loads
the call path: transports, retry, stores, tenacity)."""


def imports(quick: bool) -> None:
    n = 3 if quick else 20
    for code in IMPORTS.values():
        fresh(code)  # compiled bytecode in place
    times: dict[str, list[float]] = {"import httpx": [], **{name: [] for name in IMPORTS}}
    for _ in range(n):
        times["import httpx"].append(fresh("import httpx"))
        for name, code in IMPORTS.items():
            times[name].append(fresh(code))
    base = statistics.median(times["import httpx"])
    print(f"\n## import, {n} fresh processes each, interleaved (median)")
    print(f"import httpx {base * 1e3:.1f} ms")
    for name in IMPORTS:
        mine = statistics.median(times[name])
        extra = sorted(o - h for o, h in zip(times[name], times["import httpx"], strict=True))
        print(f"{name:<26} {mine * 1e3:.1f} ms: {(mine - base) * 1e3:+.1f} ms (pairwise spread "
              f"{extra[0] * 1e3:+.0f} to {extra[-1] * 1e3:+.0f} ms)")  # fmt: skip


FIRST_LOOKUP = """
import time, normalizer
start = time.perf_counter()
normalizer.lookup({vendor!r}, "0")
print(time.perf_counter() - start)
"""


def first_lookup(quick: bool) -> None:
    vendors = normalizer.Registry().ids()
    tries = 1 if quick else 5
    print(f"\n## first lookup of a vendor in a fresh process (median of {tries})")
    print(f"{'vendor':<16} {'cache present':>14} {'no cache':>10}")
    with tempfile.TemporaryDirectory() as cache:
        warm = environment(NORMALIZER_CACHE_DIR=cache)
        cold = environment(NORMALIZER_CACHE_DIR="")
        worst = [0.0, 0.0]
        for vendor in vendors:
            code = FIRST_LOOKUP.format(vendor=vendor)
            subprocess.run([sys.executable, "-c", code], check=True, env=warm, capture_output=True)
            cached = statistics.median(lookup_time(code, warm) for _ in range(tries))
            parsed = statistics.median(lookup_time(code, cold) for _ in range(tries))
            worst = [max(worst[0], cached), max(worst[1], parsed)]
            print(f"{vendor:<16} {cached * 1e3:>11.2f} ms {parsed * 1e3:>7.2f} ms")
        print(f"{'slowest':<16} {worst[0] * 1e3:>11.2f} ms {worst[1] * 1e3:>7.2f} ms")


def lookup_time(code: str, env: dict[str, str]) -> float:
    proc = subprocess.run(
        [sys.executable, "-c", code], check=True, env=env, capture_output=True, text=True
    )
    return float(proc.stdout.strip())


SECTIONS = {"classify": classification, "import": imports, "lookup": first_lookup}


def main(argv: list[str]) -> int:
    """``--quick`` for a smoke run; section names (classify, import, lookup) to run only those."""
    quick = "--quick" in argv
    chosen = [name for name in argv if name in SECTIONS] or list(SECTIONS)
    for name in chosen:
        SECTIONS[name](quick)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
