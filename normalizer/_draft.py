"""The mapping drafter: a vendor's published code table, as a person finds it, read into a
draft mapping file (``normalizer draft VENDOR FILE``).

A new vendor's table is a pasted Markdown or HTML table, a CSV file or lines of text, in the
vendor's language. ``read_table`` finds its codes and texts; ``Drafter`` reads each text into
a suggested category with the words that decided and a confidence. Its knowledge is data: the
phrase lexicon (``_draft_lexicon.toml``: what the taxonomy decides, e.g. a frequency limit is
busy and a daily quota billing) and words learned from the reviewed mappings' own descriptions
and glosses (``Drafter.learn``), so a table of a new vendor is read the way the reviewed
vendors were. Nothing here is trusted at run time: a draft carries a ``[draft]`` table the
loader refuses until a person has reviewed it.
"""

from __future__ import annotations

import csv
import html.parser
import io
import itertools
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ._category import Category

LEXICON = Path(__file__).with_name("_draft_lexicon.toml")
CATEGORIES = tuple(c.value for c in Category)
REVIEW_BELOW = 0.7
"""A row whose confidence is below this is marked REVIEW in the draft."""


@dataclass(frozen=True)
class Rule:
    """One lexicon rule: any of ``phrases`` in a text adds ``weight`` to ``category``."""

    category: str
    weight: float
    phrases: tuple[str, ...]
    why: str
    allow: tuple[str, ...] = ()
    """An audit rule's categories that do not contradict it (``[[audit]]`` only)."""
    over: tuple[str, ...] = ()
    """Categories this rule outranks: when it matches a text, the rules of these categories
    matched in the same text say nothing (a daily quota is billing even where its text also
    says "frequency"; a request too long is validation even where it says "too many")."""
    negatable: bool = False
    """A phrase of this rule right after a negation (``not delivered``, ``не доставлено``,
    ``未成功``), or one a later "however" or "but" takes back (``successfully delivered;
    however, it was not answered``), is not counted: it says the opposite."""

    def matches(self, text: str, after: str = "") -> list[str]:
        """The phrases of this rule found in ``text`` (lower case); ``after`` is the text that
        follows it (a title's explanation), where a contrast may take a phrase back."""
        if not self.negatable:
            return [p.strip("^$") for p in self.phrases if _phrase(p).search(text)]
        taken_back = bool(_CONTRAST.search(after))
        return [
            p.strip("^$")
            for p in self.phrases
            if any(
                not _NEGATED.search(text, 0, m.start())
                and not taken_back
                and not _CONTRAST.search(text, m.end())
                for m in _phrase(p).finditer(text)
            )
        ]


_NEGATED = re.compile(
    r"(?:\b(?:not|never|no|cannot|can't|couldn't|wasn't|isn't|unable to)\b(?:\s+\w+){0,2}\s+"
    r"|(?<![^\W\d_])(?:не|ни|нет)\s+(?:[^\W\d_]+\s+){0,2}|[未没不]|无法)$"
)
"""A negation right before a phrase: up to two words after ``not`` or ``не``, a Han negation
just before it."""
_CONTRAST = re.compile(r"\b(?:however|but)\b|但是|然而|(?<![^\W\d_])(?:однако|но)(?![^\W\d_])")
"""A contrast after a phrase, which takes it back."""


_PHRASES: dict[str, re.Pattern[str]] = {}


def _phrase(phrase: str) -> re.Pattern[str]:
    pattern = _PHRASES.get(phrase)
    if pattern is None:
        body = re.escape(phrase.strip("^$"))
        if phrase.startswith("^"):
            body = r"(?<![^\W\d_])" + body
        if phrase.endswith("$"):
            body += r"(?![^\W\d_])"
        pattern = _PHRASES[phrase] = re.compile(body)
    return pattern


def load_lexicon(path: str | Path = LEXICON, table: str = "rule") -> tuple[Rule, ...]:
    """The lexicon's ``[[rule]]`` tables (the drafter's), or its ``[[audit]]`` ones."""
    import tomllib

    with open(path, "rb") as fh:
        doc = tomllib.load(fh)
    rules = []
    for raw in doc[table]:
        for category in (raw["category"], *raw.get("allow", ()), *raw.get("over", ())):
            if category not in CATEGORIES:
                raise ValueError(f"{path}: {category!r} is not a category")
        rules.append(
            Rule(
                category=raw["category"],
                weight=float(raw.get("weight", 0.0)),
                phrases=tuple(p.lower() for p in raw["phrases"]),
                why=raw.get("why", ""),
                allow=tuple(raw.get("allow", (raw["category"],))),
                over=tuple(raw.get("over", ())),
                negatable=bool(raw.get("negatable", False)),
            )
        )
    return tuple(rules)


# --- words ----------------------------------------------------------------------------------

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_HAN = re.compile(r"[\u3400-\u9fff]+")
_CAMEL = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_STOP = frozenset(
    (
        *("the", "a", "an", "of", "to", "is", "are", "was", "be", "been", "for", "in", "on"),
        *("at", "by", "or", "and", "with", "this", "that", "it", "its", "your", "you", "has"),
        *("have", "not", "please", "can", "cannot", "from", "as", "if"),
    )
)


def features(text: str, code: str = "") -> dict[str, str]:
    """A text's features, each with the words it was read from: word stems (Latin and Cyrillic
    letters, stems of six letters), pairs of neighbouring stems, Han characters and their
    pairs, and the words of the code itself (``LimitExceeded.DailyLimit``, ``EC_TIME_OUT``)."""
    return {name: word for name, (word, _) in weighed(text, code).items()}


_TITLE_END = re.compile(r"(?<=[.!?;])\s+(?=\S)|[。；!?]|\s[-–—]\s")


def title(text: str) -> tuple[str, str]:
    """A text's title (its first sentence: ``Too Many Existing Binds``) and the rest (the
    explanation: ``The number of simultaneous connections ...``)."""
    m = _TITLE_END.search(text)
    return (text, "") if m is None else (text[: m.start()], text[m.end() :])


def weighed(text: str, code: str = "") -> dict[str, tuple[str, float]]:
    """``features`` with each one's say: 1 for a word of the text's title (its first
    sentence) or of the code, ``TITLE_REST`` for a word found only in the explanation that
    follows (advice, examples and causes mention numbers, accounts and errors of every kind:
    the title says what the code is)."""
    head, rest = title(text)
    out: dict[str, tuple[str, float]] = {}
    for part, value in ((head, 1.0), (rest, TITLE_REST)):
        for name, word in _features(part).items():
            if name not in out:
                out[name] = (word, value)
    for part in re.split(r"[._\-\s/:]+", code):
        for word in _CAMEL.findall(part):
            word = word.lower()
            if len(word) > 1 and not word.isdigit():
                out.setdefault("c:" + word[:6], (word, 1.0))
    return out


def _features(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    low = text.lower()
    words = [w for w in _WORD.findall(low) if not _HAN.fullmatch(w)]
    stems = [(w[:6], w) for w in words if w not in _STOP and len(w) > 1]
    for stem, word in stems:
        out.setdefault("w:" + stem, word)
    for (a, wa), (b, wb) in itertools.pairwise(stems):
        if WORD_BIGRAMS:
            out.setdefault(f"b:{a} {b}", f"{wa} {wb}")
    for run in _HAN.findall(text):
        for ch in run if HAN_UNIGRAMS else ():
            out.setdefault("h:" + ch, ch)
        for i in range(len(run) - 1):
            out.setdefault("h:" + run[i : i + 2], run[i : i + 2])
    return out


def code_words(code: str) -> str:
    """A code's words, as a text: ``LimitExceeded.PhoneNumberDailyLimit`` -> ``limit exceeded
    phone number daily limit`` (empty for a number)."""
    words = [w.lower() for part in re.split(r"[._\-\s/:]+", code) for w in _CAMEL.findall(part)]
    return " ".join(w for w in words if not w.isdigit())


# --- the reading ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Reading:
    """What the drafter suggests for one code."""

    category: str
    retryable: bool
    confidence: float
    words: tuple[str, ...]
    """The words that decided, most telling first (lexicon phrases, then learned words)."""

    @property
    def review(self) -> bool:
        return self.confidence < REVIEW_BELOW


@dataclass
class Drafter:
    """Lexicon rules plus what reviewed mappings teach: a logistic regression over the words of
    a code's text and the lexicon rules it matches, starting from the rules' own weights."""

    rules: tuple[Rule, ...] = field(default_factory=load_lexicon)
    examples: list[tuple[dict[str, float], int, float]] = field(default_factory=list)
    weights: dict[str, list[float]] = field(default_factory=dict)
    fitted: bool = True

    def learn(self, rows: Iterable[Mapping[str, Any]], weight: float = 1.0) -> None:
        """Learn from reviewed entries (``code``, ``description``, ``gloss``, ``category``)."""
        for row in rows:
            found = self._found(str(row["description"]), str(row["code"]))
            names = {name: value for name, (_, value) in found.items()}
            if TRAIN_GLOSS and row.get("gloss"):
                for name, (_, value) in self._found(str(row["gloss"]), "").items():
                    names[name] = max(value, names.get(name, 0.0))
            self.examples.append((names, CATEGORIES.index(row["category"]), weight))
        self.fitted = False

    def read(self, text: str, code: str = "") -> Reading:
        return _reading(*self.scores(text, code))

    def read_rows(self, rows: Sequence[tuple[str, str]]) -> list[Reading]:
        """A whole table's (code, text) rows read together: each row's own scores, then
        nudged toward what the rows written alike read as (``SIMILAR``) and what its code
        family's other rows read as (``family``: codes that
        differ only in a last digit or a last name part, ``1131``/``1132``,
        ``LimitExceeded.X``/``LimitExceeded.Y``). A vendor numbers and names its codes by
        topic, so a row whose own words are weak takes its neighbours' reading; only the table
        being drafted is used."""
        if not self.fitted:
            self._fit()
        counts: dict[str, int] = {}
        words = [set(features(text)) for _, text in rows]
        for (code, _), own in zip(rows, words, strict=True):
            for name in {*own, *features("", code)}:
                counts[name] = counts.get(name, 0) + 1
        common = TABLE_COMMON * len(rows)
        scale = {n: common / k for n, k in counts.items() if TABLE_COMMON and k > common >= 2}
        read = [self.scores(text, code, scale) for code, text in rows]
        probs = [_softmax(scores) for scores, _ in read]
        members: dict[tuple[str, ...], list[int]] = {}
        families = [family(code) for code, _ in rows]
        for i, key in enumerate(families):
            if key is not None:
                members.setdefault(key, []).append(i)
        out = []
        for i, (scores, why) in enumerate(read):
            key = families[i]
            others = [j for j in members.get(key, ()) if j != i] if key is not None else []
            if others and NEIGHBOUR_WEIGHT:
                scores = {
                    c: s + NEIGHBOUR_WEIGHT * sum(probs[j][c] for j in others) / len(others)
                    for c, s in scores.items()
                }
            alike = [
                (share, j)
                for j in range(len(rows))
                if j != i and words[i] and words[j]
                if (share := len(words[i] & words[j]) / len(words[i] | words[j])) >= SIMILAR
            ]
            if alike and SIMILAR_WEIGHT:
                total = sum(share for share, _ in alike)
                scores = {
                    c: s + SIMILAR_WEIGHT * sum(w * probs[j][c] for w, j in alike) / total
                    for c, s in scores.items()
                }
            # The neighbours choose among close readings but vouch for nothing: a row whose own
            # words are weak is still one to review (confidence no higher than its own).
            reading = _reading(scores, why)
            alone = max(probs[i].values())
            out.append(replace(reading, confidence=min(reading.confidence, round(alone, 2))))
        return out

    def scores(
        self, text: str, code: str = "", scale: Mapping[str, float] | None = None
    ) -> tuple[dict[str, float], list[tuple[str, str]]]:
        """Every category's score (log scale) and the (word, category) pairs that pushed,
        most telling first; ``scale`` weighs a learned feature's say (``read_rows``: a word
        every row of the table shares)."""
        if not self.fitted:
            self._fit()
        found = self._found(text, code)
        offset = self._offset({n: v for n, (_, v) in found.items()})
        scores = dict(zip(CATEGORIES, offset, strict=True))
        pushed: list[tuple[str, float, str]] = []
        for name, (word, value) in found.items():
            w = self.weights.get(name)
            if name[:2] in ("r:", "k:"):  # a lexicon phrase, in the text or the code's name
                rule = self.rules[int(name[2:])]
                share = LEXICON_WEIGHT if name[0] == "r" else CODE_WEIGHT
                pushed.append((word, rule.weight * share * value, rule.category))
            if w is None:
                continue
            share = value * (1.0 if scale is None else scale.get(name, 1.0))
            for i, c in enumerate(CATEGORIES):
                scores[c] += w[i] * share
                if w[i] * share > 0.3:
                    pushed.append((word, w[i] * share, c))
        pushed.sort(key=lambda t: -t[1])
        return scores, [(w, c) for w, _, c in pushed]

    def _found(self, text: str, code: str) -> dict[str, tuple[str, float]]:
        """A text's learned features and the lexicon rules it matches, each with the words
        found and its say (``weighed``: the title's full, the explanation's less)."""
        return {**weighed(text, code), **self._matched(text, code)}

    def _matched(self, text: str, code: str) -> dict[str, tuple[str, float]]:
        """The lexicon rules a text (or its code) matches: feature name -> the phrase found
        and its say (1 in the title, ``TITLE_REST`` only in the explanation)."""
        head, rest = (t.lower() for t in title(text))
        spelled = code_words(code)
        out = {}
        for i, rule in enumerate(self.rules):
            if found := rule.matches(head, rest):
                out[f"r:{i}"] = (found[0], 1.0)
            elif rest and (found := rule.matches(rest)):
                out[f"r:{i}"] = (found[0], TITLE_REST)
            elif spelled and (found := rule.matches(spelled)):
                # the code's own words: a family name, weighed less
                out[f"k:{i}"] = (found[0], 1.0)
        outranked = {c for name in out if name[0] == "r" for c in self.rules[int(name[2:])].over}
        return {
            name: found
            for name, found in out.items()
            if self.rules[int(name[2:])].category not in outranked
        }

    def _offset(self, matched: Mapping[str, float]) -> list[float]:
        """Where a reading starts: the matched rules' own weights, and validation a little
        ahead (a code with no telling word is most often its request's fault)."""
        offset = [0.0] * len(CATEGORIES)
        offset[CATEGORIES.index("validation")] = BIAS
        for name, value in matched.items():
            if name[:2] not in ("r:", "k:"):
                continue
            rule = self.rules[int(name[2:])]
            share = LEXICON_WEIGHT if name[0] == "r" else CODE_WEIGHT
            offset[CATEGORIES.index(rule.category)] += rule.weight * share * value
        return offset

    def _fit(self) -> None:
        """Stochastic gradient descent on the softmax loss, in a fixed order (reproducible)."""
        import random

        k = len(CATEGORIES)
        weights: dict[str, list[float]] = {}
        data = [
            (list(names.items()), label, weight, self._offset(names))
            for names, label, weight in self.examples
        ]
        order = random.Random(0)
        for _ in range(EPOCHS):
            order.shuffle(data)
            for names, label, weight, offset in data:
                rows = [(weights.setdefault(n, [0.0] * k), v) for n, v in names]
                logits = list(offset)
                for row, v in rows:
                    for i in range(k):
                        logits[i] += row[i] * v
                peak = max(logits)
                exps = [math.exp(x - peak) for x in logits]
                total = sum(exps)
                step = RATE * weight / math.sqrt(len(names) + 1)
                grad = [step * (e / total - (i == label)) for i, e in enumerate(exps)]
                for row, v in rows:
                    for i in range(k):
                        row[i] -= grad[i] * v
        self.weights = weights
        self.fitted = True


def _reading(scores: Mapping[str, float], why: Sequence[tuple[str, str]]) -> Reading:
    """The reading a set of scores makes: the top category (validation wins a tie), its
    softmax share as the confidence and the words that pushed toward it."""
    top = max(CATEGORIES, key=lambda c: (scores[c], c == "validation"))
    peak = scores[top]
    confidence = 1.0 / sum(math.exp(s - peak) for s in scores.values())
    words = tuple(dict.fromkeys(w for w, c in why if c == top))[:5]
    return Reading(top, Category(top).retryable_by_default, round(confidence, 2), words)


def _softmax(scores: Mapping[str, float]) -> dict[str, float]:
    peak = max(scores.values())
    exps = {c: math.exp(s - peak) for c, s in scores.items()}
    total = sum(exps.values())
    return {c: e / total for c, e in exps.items()}


_NUMBERED = re.compile(r"([A-Za-z_.\-]*?)[-_.]?(\d+)")


def family(code: str) -> tuple[str, ...] | None:
    """The family a code's vendor filed it in: a number without its last digit (``1131`` ->
    ``113``, same length, same letter prefix: ``E401`` and ``E403``), or a name without its
    last part (``LimitExceeded.DailyLimit`` -> ``LimitExceeded``, ``EC_TIME_OUT`` ->
    ``EC_TIME``). None for a one-digit number or a one-word name."""
    m = _NUMBERED.fullmatch(code)
    if m:
        prefix, digits = m.groups()
        return ("n", prefix, str(len(digits)), digits[:-1]) if len(digits) > 1 else None
    parts = [p for p in re.split(r"[._\-:/]+", code) if p]
    return ("a", *parts[:-1]) if len(parts) > 1 else None


# The drafter's settings, as benchmarks/drafter.py measured them (leave one vendor out): word
# pairs, a learned bias, a decay, fewer epochs and texts without glosses each read worse.
BIAS = 1.0
"""How far validation starts ahead: a code with no telling word is most often the request's."""
TITLE_REST = 0.8
"""The say of a word found only after a text's first sentence (``weighed``): the title says
what the code is, the explanation adds advice and causes. Leave one vendor out: 1.0 reads
85.14%, 0.8 85.28%, 0.6 and 0.5 less."""
HAN_UNIGRAMS = True
"""Single Han characters as features, besides pairs (余额 and also 余, 额)."""
WORD_BIGRAMS = False
"""Pairs of neighbouring word stems as features."""
TRAIN_GLOSS = True
"""Learn from a reviewed entry's English gloss too (a table is read without one)."""
VENDOR_POWER = 0.5
"""A vendor's rows weigh 10 / rows ** VENDOR_POWER: Twilio's 750 do not drown Huawei's 26."""
LEXICON_WEIGHT = 1.0
"""A lexicon phrase in the text adds its rule's weight times this."""
CODE_WEIGHT = 0.5
"""A lexicon phrase found only in the code's own words (``LimitExceeded``) weighs this."""
EPOCHS = 8
RATE = 0.15
TABLE_COMMON = 0.2
"""A learned word found in more than this share of a table's rows (a section label such as
【账号】, a code prefix such as ``EC``) says less: its weight is scaled by this share over its
own. It tells the table's sections apart from each other less than it tells one vendor's way
of writing from another's. Leave one vendor out: 0 reads 82.1%, 0.2 and 0.3 82.35%."""
SIMILAR = 0.5
"""Two rows of a table whose words overlap this much (shared over either's, Jaccard) are alike."""
SIMILAR_WEIGHT = 2.0
"""How far a table's alike rows pull a row (``Drafter.read_rows``), as ``NEIGHBOUR_WEIGHT``: a
vendor writes one kind of failure one way. Leave one vendor out: 0 reads 82.35%, 1 82.5%, 2
82.7%, 3 82.5% (a 0.4 overlap 82.5%)."""
NEIGHBOUR_WEIGHT = 1.0
"""How far a table's own code family pulls a row (``Drafter.read_rows``): the family's mean
probability per category, times this, added to the row's scores. Leave one vendor out: 0
reads 81.4%, 1.0 82.1%; 2 and more let a mixed family drown its rows' own words."""


# --- reading a table ------------------------------------------------------------------------

_CODE = re.compile(r"[-+]?[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}")
_CODE_HEADER = re.compile(r"(?i)code|错误码|返回码|状态码|代码|编码|код|código|codigo|status|error")
_TEXT_HEADER = re.compile(
    r"(?i)desc|message|meaning|reason|说明|描述|含义|信息|原因|описан|сообщен|значен|расшифр|"
    r"descri|mensag|mensaj|signific"
)


def _codeish(cell: str) -> bool:
    cell = cell.strip().strip("`*")
    return bool(_CODE.fullmatch(cell)) and (
        any(ch.isdigit() for ch in cell) or cell.isupper() or "." in cell or "_" in cell
    )


class _Html(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self.cell = []
        elif tag == "br" and self.cell is not None:
            self.cell.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self.cell is not None:
            if not self.rows:
                self.rows.append([])
            self.rows[-1].append(" ".join("".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def _grid(text: str) -> list[list[str]] | None:
    """The text's rows of cells, when it is a table (HTML, Markdown, CSV or tab separated)."""
    if re.search(r"(?i)<t[dh][\s>]", text):
        parser = _Html()
        parser.feed(text)
        return [r for r in parser.rows if r]
    lines = [line for line in text.splitlines() if line.strip()]
    piped = [line for line in lines if line.strip().startswith("|")]
    if len(piped) >= max(2, len(lines) // 2):
        rows = []
        for line in piped:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if all(re.fullmatch(r":?-{2,}:?", c) or not c for c in cells):
                continue
            rows.append(cells)
        return rows
    for delimiter in ("\t", ",", ";"):
        if sum(delimiter in line for line in lines) >= max(2, len(lines) * 3 // 4):
            rows = list(csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter))
            if delimiter != "\t" and not any(_codeish(r[0]) for r in rows if r):
                continue
            return rows
    return None


_LINE = re.compile(
    r"^\s*(?:[-*•]\s*)?[`\"']?(?P<code>[-+]?[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}?)[`\"']?"
    r"\s*(?:[:：=\-–—|)]\s*|\s{1,})(?P<text>\S.*)$"
)


_HTTP = re.compile(r"[1-5]\d\d")


def read_table(text: str) -> list[tuple[str, str]]:
    """The (code, text) rows of a vendor's published table, as a person pasted it."""
    grid = _grid(text)
    if grid is None:
        rows = []
        for line in text.splitlines():
            m = _LINE.match(line)
            if m and _codeish(m["code"]):
                rows.append((m["code"], m["text"].strip()))
        return _unique(rows)
    width = max(len(r) for r in grid)
    header = grid[0] if grid and not any(_codeish(c) for c in grid[0][:2]) else None
    body = grid[1:] if header is not None else grid

    def http_column(i: int) -> bool:
        """A column of HTTP statuses (``HTTP status``, ``HTTP 状态码``): most cells 1xx-5xx."""
        if header is None or i >= len(header) or "http" not in header[i].lower():
            return False
        cells = [r[i].strip() for r in body if i < len(r) and r[i].strip()]
        return bool(cells) and sum(bool(_HTTP.fullmatch(c)) for c in cells) * 2 >= len(cells)

    http = next((i for i in range(width) if http_column(i)), None)

    def column_score(i: int) -> float:
        cells = [r[i] for r in body if i < len(r) and r[i].strip()]
        if not cells or i == http:
            return -1.0
        share = sum(_codeish(c) for c in cells) / len(cells)
        named = header is not None and i < len(header) and bool(_CODE_HEADER.search(header[i]))
        return share + (0.3 if named else 0.0) - 0.01 * i

    code_col = max(range(width), key=column_score)

    def text_score(i: int) -> float:
        cells = [r[i] for r in body if i < len(r)]
        letters = sum(len(_WORD.findall(c)) + len(_HAN.findall("".join(c))) for c in cells)
        named = header is not None and i < len(header) and bool(_TEXT_HEADER.search(header[i]))
        return letters / max(1, len(cells)) + (100.0 if named else 0.0) - 0.01 * i

    others = [i for i in range(width) if i not in (code_col, http)]
    if not others:
        return []
    text_col = max(others, key=text_score)
    # A table with a description and an explanation (``错误码描述`` and ``说明``, often in two
    # languages) says more in both: the other columns whose header names a text are read too.
    also = [
        i
        for i in others
        if i != text_col and header is not None and i < len(header)
        if _TEXT_HEADER.search(header[i])
    ]
    rows = []
    for r in body:
        if code_col < len(r) and _codeish(r[code_col]) and text_col < len(r):
            texts = [r[i].strip() for i in (text_col, *also) if i < len(r)]
            message = " ".join(dict.fromkeys(t for t in texts if t))
            # The HTTP status the table gives a code is read with its text (the lexicon's
            # ``(http 429)`` rules): a vague text ("Request refused") still says what it is.
            if http is not None and http < len(r) and _HTTP.fullmatch(status := r[http].strip()):
                message += f" (HTTP {status})"
            if r[text_col].strip() and message:
                rows.append((r[code_col].strip().strip("`*"), message))
    return _unique(rows)


def _unique(rows: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for code, message in rows:
        seen.setdefault(code, message)
    return list(seen.items())


# --- the reviewed mappings as training data ---------------------------------------------------


def reviewed_rows(doc: Mapping[str, Any], prefix: str = "") -> Iterator[dict[str, Any]]:
    """Every code entry of a checked mapping document (vendor table, item tables, products),
    with its dotted ``key`` in the file."""
    for code, entry in doc.get("codes", {}).items():
        yield {
            "key": f'{prefix}codes."{code}"',
            "code": code,
            "description": entry["description"],
            "gloss": entry.get("gloss", ""),
            "category": entry["category"],
        }
    for i, spec in enumerate(doc.get("items", [])):
        yield from reviewed_rows(spec, f"{prefix}items[{i}].")
    for name, product in doc.get("products", {}).items():
        yield from reviewed_rows(product, f"{prefix}products.{name}.")


def builtin_drafter(leave_out: str | None = None) -> Drafter:
    """A drafter that learned from the built-in mappings (but ``leave_out``'s)."""
    from ._mapping import read_file
    from ._registry import builtin_dir

    drafter = Drafter()
    left_out = None if leave_out is None else vendor_id(leave_out)
    for path in sorted(builtin_dir().glob("*.toml")):
        doc = read_file(path)
        if doc["vendor"].get("id") != left_out:
            rows = list(reviewed_rows(doc))
            drafter.learn(rows, weight=_vendor_weight(len(rows)))
    return drafter


def _vendor_weight(n: int) -> float:
    """A large table (Twilio's 750 codes) should not drown the small ones' way of writing."""
    return 10.0 / math.pow(max(1, n), VENDOR_POWER)


# --- the draft file -------------------------------------------------------------------------


def draft(vendor: str, text: str, drafter: Drafter, *, table: str = "-") -> str:
    """A draft mapping file (TOML) for ``vendor`` from its published ``text``: every code with
    its suggested category and retryable, the words that decided and a confidence, the rows
    below ``REVIEW_BELOW`` marked REVIEW, and a ``[draft]`` table the loader refuses."""
    vid = vendor_id(vendor)
    rows = read_table(text)
    readings = [
        (code, message, reading)
        for (code, message), reading in zip(rows, drafter.read_rows(rows), strict=True)
    ]
    review = [code for code, _, reading in readings if reading.review]
    out = [
        f"# A DRAFT written by `normalizer draft {vendor} {table}`: every category below is a",
        "# suggestion read from the vendor's own words. Read each entry against the vendor's table",
        "# (REVIEW rows first), fix what is wrong, fill in [vendor], [detect] and [envelope], then",
        "# delete the [draft] table: until then normalizer refuses to load this file.",
        "format = 1",
        "",
        "[draft]",
        f"table = {_toml(table)}",
        f"codes = {len(readings)}",
        f"review = [{', '.join(_toml(c) for c in review)}]"
        f"   # confidence below {REVIEW_BELOW}: read these first",
        "",
        "[vendor]",
        f"id = {_toml(vid)}",
        f"name = {_toml(vendor)}   # REVIEW: the vendor's display name",
        f"source = {_toml(table)}   # REVIEW: the URL or document the table comes from",
        "",
        "[envelope]",
        'code = ["code"]   # REVIEW: where the code is in a response body',
        "",
        "[codes]",
    ]
    for code, message, reading in readings:
        mark = "REVIEW " if reading.review else ""
        words = ", ".join(_toml(w) for w in reading.words) or "(no telling word)"
        out.append(f"# {mark}{reading.category} {reading.confidence:.2f}: {words}")
        out.append(
            f"{_toml(code)} = {{ category = {_toml(reading.category)}, "
            f"description = {_toml(message)}, retryable = {str(reading.retryable).lower()} }}"
        )
    return "\n".join(out) + "\n"


def vendor_id(name: str) -> str:
    """A mapping id ([a-z][a-z0-9_]*) made from a vendor's name: ``Acme SMS`` -> ``acme_sms``."""
    vid = re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_") or "vendor"
    return vid if vid[0].isalpha() else "v_" + vid


def _toml(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    import json

    return json.dumps(text, ensure_ascii=False)


def drafted(tables: Mapping[str, Sequence[Mapping[str, Any]]], vendor: str) -> list[Reading]:
    """``vendor``'s table (its codes and descriptions: what the vendor publishes, no gloss, no
    category) read by a drafter that learned from every other vendor's rows only: nothing of
    ``vendor``'s own mapping (its categories, glosses, words, code names) reaches the reading."""
    drafter = Drafter()
    for other, others in tables.items():
        if other != vendor:
            drafter.learn(others, weight=_vendor_weight(len(others)))
    rows = tables[vendor]
    return drafter.read_rows([(str(r["code"]), str(r["description"])) for r in rows])


def leave_one_out(
    tables: Mapping[str, Sequence[Mapping[str, Any]]],
) -> dict[str, tuple[int, int]]:
    """The drafter measured on reviewed tables: each vendor's codes drafted (``drafted``) by a
    drafter that learned from every other vendor only. vendor -> (codes whose category
    agrees, codes)."""
    result = {}
    for vendor, rows in tables.items():
        readings = drafted(tables, vendor)
        agree = sum(
            reading.category == r["category"] for reading, r in zip(readings, rows, strict=True)
        )
        result[vendor] = (agree, len(rows))
    return result
