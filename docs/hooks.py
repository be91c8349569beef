"""MkDocs hooks: the code reference, generated at build time from the mapping files.

Every page under ``reference/codes/`` and ``reference/categories.md`` is made here, from the
mappings the library itself loads (``normalizer.Registry``), so the site cannot disagree with
what ``normalizer.lookup`` answers. One page per vendor (its own table, classes, HTTP and field
rules, per-item tables) and one per product or API family; a page listing, per category, what
each vendor calls it. ``tests/test_docs.py`` calls :func:`pages` directly to check that every
vendor and every code is there.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from normalizer import Category, Registry, Scope, VendorMapping

if TYPE_CHECKING:
    from mkdocs.config.defaults import MkDocsConfig
    from mkdocs.structure.files import Files

    from normalizer._mapping import CodeTable, Entry, ItemsSpec, Product, Selector

CODES_DIR = "reference/codes"
CATEGORIES_PAGE = "reference/categories.md"
CODES_INDEX = f"{CODES_DIR}/index.md"
NAV_TITLE = "Codes by vendor"

MEANING = {
    Category.OK: "success",
    Category.AUTH: "credentials, signature, token, expired timestamp, IP whitelist, key "
    "disabled, permission",
    Category.VALIDATION: "the request is wrong: parameters, formats, duplicates, state, "
    "unsupported, rejected content",
    Category.BILLING: "balance, fees, account frozen by billing, daily/monthly caps",
    Category.BUSY: "transient capacity: busy, rate and concurrency limits, no free agent",
    Category.NOT_FOUND: "a referenced object (task, call, file, app, number) does not exist",
    Category.SERVER: "vendor-side failure: internal error, overload, restart, database",
    Category.UNKNOWN: "a code nobody mapped, an ambiguous one, or no code at all",
}
"""One line per category, as in the README's taxonomy table."""


@dataclass(frozen=True)
class Table:
    """One code table as the site shows it: where it lives and whose it is."""

    vendor: VendorMapping
    product: Product | None
    """The product (API family) whose table it is, None for the vendor's own."""
    items: ItemsSpec | None
    """The per-item spec whose own table it is, None for a top-level table."""
    table: CodeTable

    @property
    def page(self) -> str:
        """The generated page (path under ``docs/``) the table is on."""
        return page_of(self.vendor, self.product)

    @property
    def label(self) -> str:
        """``vendor``, ``vendor / product``, plus ``items`` for an item table."""
        parts = [self.vendor.id]
        if self.product is not None:
            parts.append(self.product.id)
        if self.items is not None:
            parts.append("items")
        return " / ".join(parts)


def registry() -> Registry:
    """The built-in mappings only: a user's ``$NORMALIZER_MAPPINGS`` never reaches the site."""
    return Registry(environ=False)


def page_of(vendor: VendorMapping, product: Product | None = None) -> str:
    """The page of a vendor (``reference/codes/<vendor>/index.md``) or of one of its products."""
    if product is None:
        return f"{CODES_DIR}/{vendor.id}/index.md"
    return f"{CODES_DIR}/{vendor.id}/{product.id}.md"


def tables(vendor: VendorMapping) -> Iterator[Table]:
    """Every code table of a vendor: its own, its products', and per-item tables, in file order.

    An item table shared by several envelopes is listed once, on the first page that has it.
    """
    seen: set[int] = set()
    scopes: list[tuple[Product | None, CodeTable, tuple[ItemsSpec, ...]]] = [
        (None, vendor.table, vendor.envelope.items)
    ]
    scopes += [(p, p.table, p.envelope.items) for p in vendor.products.values()]
    for product, table, _ in scopes:
        seen.add(id(table))
        yield Table(vendor, product, None, table)
    for product, _, specs in scopes:
        for spec in specs:
            if spec.table is not None and id(spec.table) not in seen:
                seen.add(id(spec.table))
                yield Table(vendor, product, spec, spec.table)


# --- markdown helpers ---------------------------------------------------------------------

_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~])")
_URL = re.compile(r"https?://[^\s;,)<>\"]+[^\s;,.)<>\"]")


def text(value: object) -> str:
    """``value`` as inline markdown text that renders exactly as written (also in a table)."""
    flat = re.sub(r"\s+", " ", str(value))
    return _SPECIAL.sub(r"\\\1", html.escape(flat, quote=False))


def code(value: str) -> str:
    """A code as inline code, safe in a table cell."""
    return f"<code>{text(value)}</code>"


def linked(value: str) -> str:
    """Text with its URLs as links: sources are often a URL with a note."""
    out: list[str] = []
    last = 0
    for match in _URL.finditer(value):
        out.append(text(value[last : match.start()]))
        out.append(f"<{match.group(0)}>")
        last = match.end()
    out.append(text(value[last:]))
    return "".join(out).strip()


def globs(pattern: re.Pattern[str] | None) -> list[str]:
    """The shell-style globs a selector's pattern was compiled from (``fnmatch.translate``)."""
    if pattern is None:
        return []
    parts = re.findall(r"\(\?s:(.*?)\)\\Z", pattern.pattern)
    if not parts:
        return [pattern.pattern]
    shown = []
    for part in parts:
        glob = re.sub(r"\(\?>\.\*\?(.*?)\)", r".*\1", part)  # "*x*": an atomic group
        glob = re.sub(r"\.\*", "*", glob)
        glob = re.sub(r"(?<!\\)\.", "?", glob)
        shown.append(re.sub(r"\\(.)", r"\1", glob))
    return shown


def selector(sel: Selector) -> str:
    """A selector in words: hosts, paths, headers, query."""
    parts = []
    if sel.hosts:
        parts.append("hosts " + ", ".join(code(h) for h in sel.hosts))
    if sel.paths is not None:
        parts.append("paths " + ", ".join(code(g) for g in globs(sel.paths)))
    for name, pattern in sel.headers:
        parts.append(f"header {code(name)} " + ", ".join(code(g) for g in globs(pattern)))
    for name, pattern in sel.query:
        parts.append(f"query {code(name)} " + ", ".join(code(g) for g in globs(pattern)))
    return "; ".join(parts) or "never detected, only named"


def paths(json_paths: Iterable[Any]) -> str:
    """Body paths (``JsonPath``) as inline code, first found wins."""
    return ", ".join(code(p.text) for p in json_paths) or "-"


def flag(value: bool) -> str:
    return "yes" if value else "no"


class Sources:
    """The documents a page cites, numbered in order of first use."""

    def __init__(self) -> None:
        self.numbers: dict[str, int] = {}

    def cite(self, source: str) -> str:
        if not source:
            return "-"
        number = self.numbers.setdefault(source, len(self.numbers) + 1)
        return f"[{number}](#sources)"

    def section(self) -> list[str]:
        if not self.numbers:
            return []
        lines = ["## Sources {#sources}", ""]
        lines += [f"{n}. {linked(s)}" for s, n in self.numbers.items()]
        return [*lines, ""]


def notes(entry: Entry) -> str:
    out = []
    if entry.call_outcome:
        out.append("call outcome")
    if entry.delivery_outcome:
        out.append("delivery outcome")
    if entry.cooldown:
        out.append(f"cooldown {entry.cooldown:g} s")
    if entry.scope is not Scope.default(entry.category, entry.report):
        out.append(f"scope {entry.scope.value}")
    return ", ".join(out)


def entry_source(entry: Entry, fallback: str = "") -> str:
    return entry.origin.source if entry.origin is not None and entry.origin.source else fallback


def code_rows(table: CodeTable, sources: Sources, fallback: str) -> list[str]:
    """The table of every code: category, flags, the vendor's text, the gloss, the source."""
    lines = [
        "| code | category | retryable | safe to resend | vendor's text | English gloss "
        "| notes | source |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for key, entry in table.codes.items():
        lines.append(
            f"| {code(key)} | {entry.category.value} | {flag(entry.retryable)} "
            f"| {flag(entry.rejected)} | {text(entry.description)} | {text(entry.gloss)} "
            f"| {notes(entry)} | {sources.cite(entry_source(entry, fallback))} |"
        )
    return [*lines, ""]


def rules(table: CodeTable, sources: Sources, fallback: str) -> list[str]:
    """Classes, ``[[http]]`` and ``[[when]]`` rules of a table, where it has them."""
    lines: list[str] = []
    if table.classes:
        lines += [
            "### Nearest-class fallback",
            "",
            "An unlisted code is read as the code of its most specific matching pattern "
            "(`x` is any one digit).",
            "",
            "| pattern | read as |",
            "|---|---|",
        ]
        lines += [f"| {code(p)} | {code(t)} |" for p, t in table.classes.items()]
        lines.append("")
    if table.http:
        lines += [
            "### HTTP status rules",
            "",
            "Read when the body carries no known code, before the built-in defaults.",
            "",
            "| status | URL paths | category | retryable | safe to resend | meaning | source |",
            "|---|---|---|---|---|---|---|",
        ]
        for rule in table.http:
            shown = ", ".join(code(g) for g in globs(rule.paths)) or "any"
            lines.append(
                f"| {code(rule.status)} | {shown} | {rule.entry.category.value} "
                f"| {flag(rule.entry.retryable)} | {flag(rule.entry.rejected)} "
                f"| {text(rule.entry.description)} "
                f"| {sources.cite(entry_source(rule.entry, fallback))} |"
            )
        lines.append("")
    if table.when:
        lines += [
            "### Field rules",
            "",
            "Checked before the code table: the first whose field matches decides "
            "(matched `field`).",
            "",
            "| field | equals | when the code is | URL paths | category | retryable "
            "| meaning | source |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for when in table.when:
            equals = ", ".join(code(v) for v in sorted(when.equals))
            codes = (
                "any"
                if when.codes is None
                else ", ".join(code(c) for c in sorted(when.codes)) or "no code"
            )
            shown = ", ".join(code(g) for g in globs(when.paths)) or "any"
            lines.append(
                f"| {paths(when.field)} | {equals} | {codes} | {shown} "
                f"| {when.entry.category.value} | {flag(when.entry.retryable)} "
                f"| {text(when.entry.description)} "
                f"| {sources.cite(entry_source(when.entry, fallback))} |"
            )
        lines.append("")
    return lines


def items_section(specs: Iterable[ItemsSpec], mine: list[Table], sources: Sources) -> list[str]:
    """The per-item specs of an envelope, with the item tables this page holds."""
    specs = tuple(specs)
    if not specs:
        return []
    lines = [
        "## Per-item results",
        "",
        "Where a batch response keeps one result per recipient, part or task "
        "(see [Batches and webhooks](../../../batches.md)).",
        "",
    ]
    for number, spec in enumerate(specs, 1):
        kind = "reports, listed as data" if spec.report else "summed up into the outcome"
        keyed = f", keyed by {spec.keyed}" if spec.keyed else ""
        lines += [
            f"### Items {number}: {paths(spec.container)}",
            "",
            f"- container: {paths(spec.container)}{keyed}; {kind}",
            f"- item code: {paths(spec.code)}; text: {paths(spec.message)}; "
            f"number: {paths(spec.number)}; message id: {paths(spec.message_id)}",
        ]
        if spec.success:
            lines.append(
                "- ok without an entry: " + ", ".join(code(c) for c in sorted(spec.success))
            )
        if spec.failed or spec.succeeded:
            lines.append(
                f"- counters: failed {paths(spec.failed)}, succeeded {paths(spec.succeeded)}"
            )
        if spec.paths is not None:
            lines.append("- only on paths " + ", ".join(code(g) for g in globs(spec.paths)))
        if spec.source:
            lines.append(f"- source: {sources.cite(spec.source)}")
        lines.append("")
        own = [t for t in mine if t.items is spec]
        if own:
            lines += ["Item codes (a table of their own):", ""]
            lines += code_rows(own[0].table, sources, spec.source)
        elif spec.table is None:
            lines += ["Item codes read like top-level codes.", ""]
        else:
            lines += ["Item codes: the same table as another item spec of this vendor.", ""]
    return lines


def envelope_lines(envelope: Any) -> list[str]:
    lines = [f"- code: {paths(envelope.code)}"]
    if envelope.message:
        lines.append(f"- vendor's text: {paths(envelope.message)}")
    if envelope.request_id:
        lines.append(f"- request id: {paths(envelope.request_id)}")
    if envelope.success:
        lines.append(
            "- ok without an entry: " + ", ".join(code(c) for c in sorted(envelope.success))
        )
    if envelope.no_code is True:
        lines.append("- a 2xx document without a code is ok")
    elif envelope.no_code:
        shown = ", ".join(code(g) for g in globs(envelope.no_code))
        lines.append(f"- a 2xx document without a code is ok on {shown}")
    if envelope.xml:
        lines.append("- bodies may also be XML")
    if envelope.retry_after:
        lines.append("- wait headers: " + ", ".join(code(h) for h in envelope.retry_after))
    if envelope.remaining:
        lines.append(
            "- calls left in the rate-limit window: "
            + ", ".join(code(h) for h in envelope.remaining)
            + " (0: calls wait until the window reopens, up to `max_retry_after`)"
        )
    return lines


# --- pages --------------------------------------------------------------------------------


FRONT_MATTER = "---\nsearch:\n  boost: 4\n---\n"
"""A code's own vendor page comes first in search results, before prose that mentions it."""


def short_name(vendor: VendorMapping) -> str:
    """A vendor's name without its parenthesised detail, for the navigation."""
    return vendor.name.split(" (")[0].strip() or vendor.id


def vendor_page(vendor: VendorMapping) -> str:
    sources = Sources()
    mine = [t for t in tables(vendor) if t.product is None]
    lines = [
        FRONT_MATTER,
        f"# {text(vendor.name)}",
        "",
        f"Vendor id `{vendor.id}`: "
        f"{vendor.code_count} codes in all. Look one up with "
        f'`normalizer.lookup("{vendor.id}", CODE)` or `normalizer explain {vendor.id} CODE`.',
        "",
        f"- detected by: {selector(vendor.detect)}",
    ]
    if vendor.source:
        lines.append(f"- codes from: {sources.cite(vendor.source)}")
    for alias in vendor.aliases:
        lines.append(f"- alias `{alias.id}`: {text(alias.name)}, {selector(alias.selector)}")
    lines += [
        f"- mapping file: `mappings/{vendor.id}.toml` (see [Mapping format](../../../mappings.md))",
        "",
        "## Envelope",
        "",
        *envelope_lines(vendor.envelope),
        "",
    ]
    if vendor.products:
        lines += [
            "## Products and API families",
            "",
            "| product | name | selected by | codes | falls back to the vendor's table |",
            "|---|---|---|---|---|",
        ]
        for product in vendor.products.values():
            chosen = selector(product.selector) if not product.selector.empty else "named only"
            lines.append(
                f"| [{product.id}]({product.id}.md) | {text(product.name)} | {chosen} "
                f"| {len(product.table.codes)} | {flag(product.inherit)} |"
            )
        lines.append("")
    if vendor.contested:
        lines += [
            "Codes a family reads differently (a product-less lookup of them is `ambiguous`): "
            + ", ".join(code(c) for c in sorted(vendor.contested)),
            "",
        ]
    lines += ["## Codes", ""]
    if vendor.table.codes:
        lines += code_rows(vendor.table, sources, vendor.source)
    else:
        lines += ["No vendor-level codes: see the products above.", ""]
    lines += rules(vendor.table, sources, vendor.source)
    lines += items_section(vendor.envelope.items, mine, sources)
    lines += sources.section()
    return "\n".join(lines)


def product_page(vendor: VendorMapping, product: Product) -> str:
    sources = Sources()
    mine = [t for t in tables(vendor) if t.product is product]
    source = product.source or vendor.source
    fallback = (
        "Codes not listed here are read with [the vendor's table](index.md), then its classes."
        if product.inherit
        else "An API family of its own: its codes never fall back to "
        "[the vendor's table](index.md) (the same number means something else there)."
    )
    chosen = selector(product.selector) if not product.selector.empty else "named only"
    lines = [
        FRONT_MATTER,
        f"# {text(vendor.name)}: {text(product.name)}",
        "",
        f'Product `{product.id}` of vendor `{vendor.id}`: `normalizer.lookup("{vendor.id}", '
        f'CODE, product="{product.id}")`. {fallback}',
        "",
        f"- selected by: {chosen}",
    ]
    if source:
        lines.append(f"- codes from: {sources.cite(source)}")
    lines += ["", "## Envelope", "", *envelope_lines(product.envelope), "", "## Codes", ""]
    if product.table.codes:
        lines += code_rows(product.table, sources, source)
    else:
        lines += ["No codes of its own.", ""]
    lines += rules(product.table, sources, source)
    lines += items_section(product.envelope.items, mine, sources)
    lines += sources.section()
    return "\n".join(lines)


def index_page(vendors: Sequence[VendorMapping]) -> str:
    lines = [
        "# Codes by vendor",
        "",
        "Every code of every built-in vendor, generated from `mappings/*.toml` when the site is "
        "built. Use the search box: a code (`107225`) or the vendor's words (`Перегрузка`) "
        "find its page. The same data from a shell: `normalizer table VENDOR`, "
        "`normalizer explain VENDOR CODE`. See also [codes by category](../categories.md).",
        "",
        "| vendor | id | codes | products and API families | detected by |",
        "|---|---|---|---|---|",
    ]
    for vendor in vendors:
        products = ", ".join(f"[{p.id}]({vendor.id}/{p.id}.md)" for p in vendor.products.values())
        lines.append(
            f"| [{text(vendor.name)}]({vendor.id}/index.md) | `{vendor.id}` "
            f"| {vendor.code_count} | {products or '-'} | {selector(vendor.detect)} |"
        )
    lines += [
        "",
        "Columns of the code tables: **retryable** says whether a later identical request may "
        "succeed; **safe to resend** (`rejected`) that the vendor refused before doing any "
        "work, so even a POST may be sent again; **notes** mark call and delivery outcomes "
        "(how a call ended, what became of a message: not a failed request), cooldowns, and "
        "a scope other than the category's default (whom the answer is about: only vendor "
        "and account answers slow or stop the other calls).",
        "",
    ]
    return "\n".join(lines)


def categories_page(vendors: Sequence[VendorMapping]) -> str:
    all_tables = [t for v in vendors for t in tables(v)]
    lines = [
        "# Codes by category",
        "",
        "What each vendor calls each category of the taxonomy, generated from the mapping "
        "files when the site is built. Each vendor's own page has the flags and sources: "
        "[codes by vendor](codes/index.md).",
        "",
        "| category | meaning | " + " | ".join(f"`{v.id}`" for v in vendors) + " |",
        "|---|---|" + "---|" * len(vendors),
    ]
    for category in Category:
        counts = []
        for vendor in vendors:
            n = sum(
                1
                for t in all_tables
                if t.vendor is vendor
                for e in t.table.codes.values()
                if e.category is category
            )
            counts.append(str(n) if n else "")
        lines.append(
            f"| [{category.value}](#{category.value}) | {text(MEANING[category])} | "
            + " | ".join(counts)
            + " |"
        )
    lines.append("")
    for category in Category:
        lines += [
            f"## {category.value} {{#{category.value}}}",
            "",
            f"{text(MEANING[category][:1].upper() + MEANING[category][1:])}; "
            "retryable by default: "
            f"{flag(category.retryable_by_default)}.",
            "",
        ]
        for table in all_tables:
            codes = [(c, e) for c, e in table.table.codes.items() if e.category is category]
            if not codes:
                continue
            link = table.page.removeprefix("reference/")
            lines += [
                f"### {text(table.label)}: {category.value} {{#{category.value}-"
                f"{table.label.replace(' / ', '-')}}}",
                "",
                f"[{text(table.vendor.name)}]({link}), {len(codes)} codes.",
                "",
                "| code | vendor's text | English gloss | retryable | safe to resend |",
                "|---|---|---|---|---|",
            ]
            lines += [
                f"| {code(c)} | {text(e.description)} | {text(e.gloss)} | {flag(e.retryable)} "
                f"| {flag(e.rejected)} |"
                for c, e in codes
            ]
            lines.append("")
    return "\n".join(lines)


def pages(source: Registry | None = None) -> dict[str, str]:
    """Every generated page: path under ``docs/`` -> markdown."""
    vendors = (source or registry()).all()
    out = {CODES_INDEX: index_page(vendors), CATEGORIES_PAGE: categories_page(vendors)}
    for vendor in vendors:
        out[page_of(vendor)] = vendor_page(vendor)
        for product in vendor.products.values():
            out[page_of(vendor, product)] = product_page(vendor, product)
    return out


def nav(source: Registry | None = None) -> list[Any]:
    """The navigation of the code reference: the index, then each vendor and its products."""
    entries: list[Any] = [CODES_INDEX]
    for vendor in (source or registry()).all():
        if vendor.products:
            children: list[Any] = [page_of(vendor)]
            children += [{p.name: page_of(vendor, p)} for p in vendor.products.values()]
            entries.append({short_name(vendor): children})
        else:
            entries.append({short_name(vendor): page_of(vendor)})
    return entries


# --- the mkdocs hooks ---------------------------------------------------------------------

_generated: dict[str, str] = {}


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """Generate the pages and list them in the navigation under "Codes by vendor"."""
    source = registry()
    _generated.clear()
    _generated.update(pages(source))
    _replace_nav(config.nav or [], nav(source))
    return config


def _replace_nav(items: list[Any], entries: list[Any]) -> bool:
    for item in items:
        if not isinstance(item, dict):
            continue
        for title, value in item.items():
            if title == NAV_TITLE:
                item[title] = entries
                return True
            if isinstance(value, list) and _replace_nav(value, entries):
                return True
    return False


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add the generated pages to the build, as if they were files under ``docs/``."""
    from mkdocs.structure.files import File

    for path, content in _generated.items():
        existing = files.get_file_from_path(path)
        if existing is not None:
            files.remove(existing)
        files.append(File.generated(config, path, content=content))
    return files
