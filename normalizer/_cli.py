"""The ``normalizer`` command line: look codes up, list vendors and tables, lint, draft and audit
mapping files.

``normalizer --version`` (and ``python -m normalizer --version``) prints the installed
distribution's version, ``telco-normalizer X.Y.Z``: what a bug report needs and what
``pip install -U telco-normalizer`` changes.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ._category import Category
from ._classify import lookup, resolve
from ._exceptions import MappingError, NormalizerError
from ._mapping import (
    CodeTable,
    Entry,
    Origin,
    VendorMapping,
    build,
    check_all,
    merge,
    read_file,
)
from ._outcome import Match, Outcome
from ._redact import DEFAULT as DEFAULT_REDACTOR
from ._registry import Registry, builtin_dir, default_registry, expand


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    registry = default_registry()
    try:
        result: int = args.run(args, registry)
    except NormalizerError as exc:
        print(f"normalizer: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:  # e.g. an unknown product
        print(f"normalizer: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `normalizer table x | head`: the reader left, that is fine
        sys.stderr.close()
        return 0
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="normalizer",
        description="Telephony/SMS vendor result codes, read through one taxonomy.",
    )
    parser.add_argument("--version", action=_Version)
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    explain = sub.add_parser("explain", help="what a vendor code means")
    explain.add_argument("vendor")
    explain.add_argument("code")
    explain.add_argument("--product", help="the product table to use (e.g. onbuka: sms)")
    explain.add_argument("--json", action="store_true", help="machine-readable output")
    explain.set_defaults(run=_explain)

    vendors = sub.add_parser("vendors", help="list the known vendors")
    vendors.add_argument("--json", action="store_true", help="machine-readable output")
    vendors.set_defaults(run=_vendors)

    table = sub.add_parser("table", help="a vendor's codes, by category")
    table.add_argument("vendor")
    table.add_argument("--product", help="only this product's table")
    table.add_argument("--json", action="store_true", help="machine-readable output")
    table.set_defaults(run=_table)

    demo = sub.add_parser("demo", help="run real clients against a simulated vendor (no network)")
    demo.add_argument("--vendor", help="only this vendor's scenarios")
    demo.add_argument("--json", action="store_true", help="machine-readable output")
    demo.set_defaults(run=_demo)

    lint = sub.add_parser("lint", help="validate mapping files (default: the built-in ones)")
    lint.add_argument("paths", nargs="*", help="mapping files or directories")
    lint.set_defaults(run=_lint)

    draft = sub.add_parser(
        "draft", help="draft a mapping file from a vendor's published code table (to review)"
    )
    draft.add_argument("vendor", help="the vendor's name (its id is made from it)")
    draft.add_argument("file", help="the table: Markdown, HTML, CSV or text lines ('-': stdin)")
    draft.set_defaults(run=_draft)

    audit = sub.add_parser(
        "audit", help="list mapping entries whose category their own text contradicts"
    )
    audit.add_argument("paths", nargs="*", help="mapping files or directories (default: built-in)")
    audit.add_argument(
        "--reviewed",
        metavar="FILE",
        help="reviewed exceptions (default: mappings/audit/reviewed.toml)",
    )
    audit.set_defaults(run=_audit)

    reset = sub.add_parser(
        "reset", help="clear a vendor's retry budget, circuit and cooldown in a shared Redis store"
    )
    reset.add_argument("vendor")
    reset.add_argument("--redis", required=True, metavar="URL", help="redis://host:port/db")
    reset.add_argument("--account", default="default", help="as given to RedisState")
    reset.add_argument("--prefix", default="normalizer", help="as given to RedisState")
    reset.set_defaults(run=_reset)
    return parser


DISTRIBUTION = "telco-normalizer"


def version() -> str:
    """The installed distribution's version; the package's ``__version__`` when it runs from a
    source tree that was never installed (no distribution metadata to read)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed(DISTRIBUTION)
    except PackageNotFoundError:
        from . import __version__

        return __version__


class _Version(argparse.Action):
    """``--version``: as argparse's own, but the metadata is read only when asked for, not on
    every command's start."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(
            option_strings,
            dest=argparse.SUPPRESS,
            default=argparse.SUPPRESS,
            nargs=0,
            help="print the version of telco-normalizer and exit",
        )

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> None:
        print(f"{DISTRIBUTION} {version()}")
        parser.exit()


def outcome_dict(outcome: Outcome) -> dict[str, Any]:
    """An outcome as plain JSON-ready data."""
    data = {f.name: getattr(outcome, f.name) for f in dataclasses.fields(outcome)}
    data["category"] = outcome.category.value
    data["matched"] = outcome.matched.value
    data["candidates"] = [outcome_dict(c) for c in outcome.candidates]
    data["items"] = [
        {
            f.name: _shown(f.name, getattr(item, f.name))
            for f in dataclasses.fields(item)
            if f.name != "recipient"  # the number in clear stays out of printed output
        }
        for item in outcome.items
    ]
    data["ok"] = outcome.ok
    return data


def _shown(name: str, value: Any) -> Any:
    """An item's field as printed: the vendor's own text may name a number."""
    return DEFAULT_REDACTOR.text(value) if name == "vendor_message" and value else value


def _explain(args: argparse.Namespace, registry: Registry) -> int:
    outcome = lookup(args.vendor, args.code, product=args.product, registry=registry)
    mapping = registry.get(args.vendor)
    origin = _origin(mapping, outcome)
    if args.json:
        data = outcome_dict(outcome)
        data["origin"] = None if origin is None else _origin_dict(origin)
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return 0
    where = outcome.vendor + (f"/{outcome.product}" if outcome.product else "")
    how = outcome.matched.value
    if outcome.matched is Match.CLASS:
        how = _class_note(mapping, outcome)
    print(f"{where} {outcome.code}: {outcome.category.value} ({how})")
    print(
        f"  retryable: {_yes(outcome.retryable)}   safe to resend a POST: "
        f"{_yes(outcome.rejected)}   scope: {outcome.scope.value}"
        + (f"   fault: {outcome.fault.value}" if outcome.fault is not None else "")
        + ("   call outcome" if outcome.call_outcome else "")
    )
    pauses = [
        f"{name}: {seconds:g} s"
        for name, seconds in (("window", outcome.retry_after), ("cooldown", outcome.cooldown))
        if seconds
    ]
    if pauses or outcome.overload:
        print("  " + "   ".join(pauses + (["overload: yes"] if outcome.overload else [])))
    for candidate in outcome.candidates:
        print(
            f"  - {candidate.product}: {candidate.category.value}: {candidate.message}"
            + (f" ({candidate.gloss})" if candidate.gloss else "")
        )
    if not outcome.candidates:
        if outcome.message:
            print(f"  {outcome.message}")
        if outcome.gloss:
            print(f"  {outcome.gloss}")
    if outcome.category is Category.UNKNOWN and not outcome.candidates:
        print("  no mapping knows this code")
    if origin is not None:
        print(f"  set in {origin.file} at {origin.key}")
        if origin.source:
            print(f"  source: {origin.source}")
        defaulted = sorted({"retryable", "rejected"} - origin.written)
        if defaulted:
            print(f"  defaulted (not written in the file): {', '.join(defaulted)}")
    return 0


def _origin(mapping: VendorMapping, outcome: Outcome) -> Origin | None:
    """Where the entry behind a looked-up code was set (None when no single entry decided)."""
    if outcome.code is None or outcome.matched not in (Match.EXACT, Match.CLASS):
        return None
    product = None if outcome.product is None else mapping.products[outcome.product]
    reading = resolve(mapping, outcome.code, product)
    return None if reading is None else reading.entry.origin


def _origin_dict(origin: Origin) -> dict[str, Any]:
    return {
        "file": origin.file,
        "key": origin.key,
        "source": origin.source,
        "written": sorted(origin.written),
    }


def _class_note(mapping: VendorMapping, outcome: Outcome) -> str:
    assert outcome.code is not None
    tables = [mapping.table]
    if outcome.product is not None:
        tables.insert(0, mapping.products[outcome.product].table)
    for table in tables:
        pattern = table.nearest_class(outcome.code.strip())
        if pattern is not None:
            return f"class {pattern}, read as {table.classes[pattern]}"
    return "class"


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _vendors(args: argparse.Namespace, registry: Registry) -> int:
    mappings = registry.all()
    if args.json:
        rows = [
            {
                "id": m.id,
                "name": m.name,
                "codes": m.code_count,
                "products": list(m.products),
                "aliases": [a.id for a in m.aliases],
                "hosts": list(m.hosts),
                "files": list(m.files),
            }
            for m in mappings
        ]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    width = max((len(m.id) for m in mappings), default=0)
    for m in mappings:
        products = f"  products: {', '.join(m.products)}" if m.products else ""
        aliases = f"  aliases: {', '.join(a.id for a in m.aliases)}" if m.aliases else ""
        print(f"{m.id:<{width}}  {m.code_count:>4} codes  {m.name}{products}{aliases}")
    return 0


def _table(args: argparse.Namespace, registry: Registry) -> int:
    mapping = registry.get(args.vendor)
    scopes: list[tuple[str | None, CodeTable]] = []
    if args.product is None:
        scopes.append((None, mapping.table))
        scopes.extend((p.id, p.table) for p in mapping.products.values())
    else:
        if args.product not in mapping.products:
            raise ValueError(
                f"vendor {mapping.id!r} has no product {args.product!r}; "
                f"its products: {', '.join(mapping.products) or '(none)'}"
            )
        scopes.append((args.product, mapping.products[args.product].table))
    if args.json:
        data = [
            {"product": product, "code": code, **_entry_dict(entry)}
            for product, table in scopes
            for code, entry in table.codes.items()
        ]
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return 0
    print(f"{mapping.name} ({mapping.id})")
    for product, table in scopes:
        if not table.codes:
            continue
        if product is not None:
            print(f"\n== product {product}: {mapping.products[product].name}")
        for category in Category:
            codes = [(c, e) for c, e in table.codes.items() if e.category is category]
            if not codes:
                continue
            print(f"\n{category.value} ({len(codes)})")
            width = max(len(c) for c, _ in codes)
            for code, entry in codes:
                flags = "".join(
                    (
                        " [retry]" if entry.retryable else "",
                        " [resend ok]" if entry.rejected and entry.retryable else "",
                        " [call outcome]" if entry.call_outcome else "",
                        " [delivery outcome]" if entry.delivery_outcome else "",
                    )
                )
                gloss = f" ({entry.gloss})" if entry.gloss else ""
                print(f"  {code:<{width}}  {entry.description}{gloss}{flags}")
        if table.classes:
            print("\nclasses (an unlisted code is read as its nearest class)")
            for pattern, target in table.classes.items():
                print(f"  {pattern} -> {target}")
    return 0


def _entry_dict(entry: Entry) -> dict[str, Any]:
    data = {f.name: getattr(entry, f.name) for f in dataclasses.fields(entry)}
    data["category"] = entry.category.value
    data["origin"] = None if entry.origin is None else _origin_dict(entry.origin)
    return data


def _demo(args: argparse.Namespace, registry: Registry) -> int:
    from ._demo import main as demo  # the simulated server is only loaded when asked for

    return demo(args.vendor, args.json)


def _lint(args: argparse.Namespace, registry: Registry) -> int:
    paths = args.paths or [str(builtin_dir())]
    failures = 0
    try:
        files = expand(paths)
    except MappingError as exc:
        print(f"FAIL {exc}")
        return 1
    for path in files:
        errors = check_all(path)
        if errors:  # every mistake of the file, not only the first that loading would stop at
            failures += 1
            for error in errors:
                print(f"FAIL {error}")
            continue
        try:
            doc = read_file(path)
            vendor = doc["vendor"]
            if "extends" in vendor:
                base = registry.get(vendor["extends"])
                merged = merge(_doc_of(base, registry), doc)
                mapping = build(merged, [*base.files, str(path)])
            else:
                mapping = build(doc, [str(path)])
        except NormalizerError as exc:
            failures += 1
            print(f"FAIL {exc}")
            continue
        print(f"ok   {path}: {mapping.id}, {mapping.code_count} codes")
    print(f"{len(files) - failures} ok, {failures} failed")
    return 1 if failures else 0


def _draft(args: argparse.Namespace, registry: Registry) -> int:
    """A draft mapping on standard output, from what the built-in mappings teach (never from
    the vendor's own built-in file, if it has one: a draft is read from the table alone)."""
    from ._draft import builtin_drafter, draft

    if args.file == "-":
        text = sys.stdin.read()
    else:
        try:
            text = Path(args.file).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"cannot read {args.file}: {exc}") from None
    drafter = builtin_drafter(leave_out=args.vendor)
    out = draft(args.vendor, text, drafter, table=args.file)
    if "\n[codes]\n#" not in out:
        raise ValueError(f"{args.file}: no code table found (codes with their texts, one a row)")
    sys.stdout.write(out)
    return 0


def _audit(args: argparse.Namespace, registry: Registry) -> int:
    """Findings print with the phrases that decided; reviewed exceptions print with their
    reason and pass; an open finding fails (exit 1)."""
    from ._audit import REVIEWED, audit, load_reviewed

    files = expand(args.paths or [str(builtin_dir())])
    reviewed = load_reviewed(args.reviewed or builtin_dir() / REVIEWED)
    report = audit(files, reviewed)
    for finding, exc in report.reviewed:
        print(f"reviewed {finding.vendor} {finding.key}: {finding.category}: {exc.reason}")
    for exc in report.stale:
        print(f"stale    {exc.vendor} {exc.key}: no such finding any more (remove it)")
    for f in report.open:
        words = ", ".join(repr(w) for w in f.words)
        print(
            f"FINDING  {f.vendor} {f.key}: {f.category}, but its text says "
            f"{' or '.join(f.suggested)} ({words}): {f.text}"
        )
    print(f"{len(report.open)} open, {len(report.reviewed)} reviewed, {len(report.stale)} stale")
    return 1 if report.open else 0


def _reset(args: argparse.Namespace, registry: Registry) -> int:
    """A fleet's state for one vendor, cleared: what an in-process ``LocalState.clear`` does."""
    registry.get(args.vendor)  # an unknown vendor id is a mistake worth saying
    from .redis import RedisState  # only here: the CLI runs without redis-py otherwise

    with RedisState.from_url(
        args.redis, timeout=5.0, account=args.account, prefix=args.prefix
    ) as store:
        deleted = store.clear(args.vendor)
    print(f"{args.vendor}: cleared ({deleted} keys) for account {args.account!r}")
    return 0


def _doc_of(mapping: VendorMapping, registry: Registry) -> dict[str, Any]:
    """The merged source document of a registered vendor (to check an overlay against it)."""
    doc = read_file(mapping.files[0])
    for file in mapping.files[1:]:
        doc = merge(doc, read_file(file))
    return doc
