"""Which vendor mappings exist: the built-in files, $NORMALIZER_MAPPINGS, and registered ones.

Built-in vendors are read lazily, one file when its vendor is first used, so importing
normalizer costs nothing and a process that talks to one vendor parses one file. Registering a
file that names hosts reads them all once, to warn when two vendors claim one host.
"""

from __future__ import annotations

import os
import sys
import threading
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ._exceptions import MappingError, UnregisteredVendorError
from ._mapping import Target, VendorMapping, _host_matches, build, merge, read_file

ENV_VAR = "NORMALIZER_MAPPINGS"
_HOSTS_KEPT = 1024


class MappingWarning(UserWarning):
    """A mapping file loaded, but may not do what its author meant: it claims a host another
    vendor claims too. Filter it like any warning
    (``warnings.filterwarnings("ignore", category=MappingWarning)``)."""


def builtin_dir() -> Path:
    """Where the shipped mapping files are: inside the wheel, or ``mappings/`` in a checkout."""
    here = Path(__file__).resolve().parent
    packaged = here / "_mappings"
    return packaged if packaged.is_dir() else here.parent / "mappings"


def expand(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Files named directly, plus the ``*.toml`` files of directories, in a stable order."""
    files: list[Path] = []
    for item in paths:
        path = Path(item)
        if path.is_dir():
            files.extend(sorted(path.glob("*.toml")))
        elif path.is_file():
            files.append(path)
        else:
            raise MappingError(path, "", "no such file or directory")
    return files


class Registry:
    """Vendor mappings by id.

    Layers, later ones winning: the built-in files, the files named by ``$NORMALIZER_MAPPINGS``
    (read when the registry is first used), then files given to :meth:`register`. A file with
    ``vendor.id`` defines (or replaces) a vendor; one with ``vendor.extends`` overlays it.
    """

    def __init__(self, *, builtin: Path | None = None, environ: bool = True) -> None:
        self._builtin = builtin_dir() if builtin is None else builtin
        self._environ = environ
        self._lock = threading.RLock()
        self._started = False
        self._builtin_ids: frozenset[str] = frozenset()
        # per vendor: the documents it is built from, base first, as (file, document)
        self._docs: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        self._built: dict[str, VendorMapping] = {}
        self._by_host: dict[str, tuple[VendorMapping, ...]] = {}
        self.generation = 0
        """Counts :meth:`register` calls, so users of a mapping know to look it up again."""

    def _start(self) -> None:
        if self._started:
            return
        with self._lock:
            if self._started:
                return
            if self._builtin.is_dir():
                self._builtin_ids = frozenset(p.stem for p in self._builtin.glob("*.toml"))
            extra = os.environ.get(ENV_VAR, "") if self._environ else ""
            self._started = True
            if extra:
                try:
                    self.register(*[p for p in extra.split(os.pathsep) if p])
                except BaseException:
                    # never run on the built-in tables without the user's files: every use
                    # raises the file's error again until the environment is fixed
                    self._started = False
                    raise

    def ids(self) -> tuple[str, ...]:
        """Every vendor id this registry can build, sorted."""
        self._start()
        return tuple(
            sorted(
                self._builtin_ids
                | {vid for vid, docs in self._docs.items() if "id" in docs[0][1]["vendor"]}
            )
        )

    def get(self, vendor: str) -> VendorMapping:
        """The mapping for ``vendor``; :class:`UnregisteredVendorError` if there is none."""
        mapping = self._built.get(vendor)
        if mapping is not None:
            return mapping
        self._start()
        with self._lock:
            mapping = self._built.get(vendor)
            if mapping is None:
                mapping = self._build(vendor)
                self._built[vendor] = mapping
            return mapping

    def all(self) -> tuple[VendorMapping, ...]:
        """Every vendor's mapping (reads every file not read yet)."""
        return tuple(self.get(vid) for vid in self.ids())

    def detect(self, target: Target) -> VendorMapping | None:
        """The vendor whose ``[detect]`` selector (or an alias) matches a request, if any.

        Candidates are cached per host, so a host no vendor claims costs one dict lookup.
        """
        return next((m for m in self.candidates(target.host) if m.matches(target)), None)

    def candidates(self, host: str) -> tuple[VendorMapping, ...]:
        """The vendors that may serve ``host`` (their other selector parts decide)."""
        candidates = self._by_host.get(host)
        if candidates is None:
            candidates = tuple(m for m in self.all() if m.may_serve(host))
            if len(self._by_host) >= _HOSTS_KEPT:
                self._by_host = {}  # many distinct hosts: start over, stay small
            self._by_host[host] = candidates
        return candidates

    def register(self, *paths: str | os.PathLike[str]) -> tuple[str, ...]:
        """Load mapping files (or directories of them); returns the vendor ids they touch.

        Files are validated before anything changes, so a bad file leaves the registry as it was.
        """
        self._start()
        loaded = [(str(path), read_file(path)) for path in expand(paths)]
        touched: list[str] = []
        with self._lock:
            for file, doc in loaded:
                vendor = doc["vendor"]
                if "id" in vendor:
                    self._docs[vendor["id"]] = [(file, doc)]
                    touched.append(vendor["id"])
                else:
                    vid = vendor["extends"]
                    if vid not in self._docs:
                        self._docs[vid] = self._base_docs(vid, file)
                    self._docs[vid].append((file, doc))
                    touched.append(vid)
            self._by_host = {}
            for vid in touched:
                self._built.pop(vid, None)
            for vid in dict.fromkeys(touched):  # build now: an overlay's errors show at once
                self._built[vid] = self._build(vid)
            self.generation += 1
            claims = [claim for file, doc in loaded for claim in self._claims(file, doc)]
        for claim in claims:
            warnings.warn(claim, MappingWarning, stacklevel=_outside())
        return tuple(dict.fromkeys(touched))

    def _claims(self, file: str, doc: dict[str, Any]) -> Iterator[str]:
        """Why each host ``doc`` names is also another vendor's: which vendor reads a request
        to it then depends on the order of ids, not on what the file's author meant."""
        declared = list(_declared_hosts(doc))
        if not declared:
            return  # the usual overlay names no host: nothing read
        vendor = doc["vendor"].get("id") or doc["vendor"]["extends"]
        for other in self.ids():
            if other == vendor:
                continue
            try:
                theirs = _claimed_hosts(self.get(other))
            except MappingError:
                continue  # a broken file says so when its vendor is used
            for key, host in declared:
                for their in theirs:
                    if _host_matches(host, their) or _host_matches(their, host):
                        yield (
                            f"{file}: {key}: vendor {vendor!r} claims host {host!r}, which vendor "
                            f"{other!r} claims too ({their!r}); a request both match goes to "
                            f"{min(vendor, other)!r} (vendors are tried in id order). To "
                            f"change {other!r}, write an overlay: extends = {other!r}"
                        )
                        break

    def _base_docs(self, vendor: str, requester: str | None) -> list[tuple[str, dict[str, Any]]]:
        if vendor not in self._builtin_ids:
            known = self._builtin_ids | set(self._docs)
            if requester is None:
                raise UnregisteredVendorError(vendor, known)
            raise MappingError(
                requester,
                "vendor.extends",
                f"no vendor {vendor!r} to extend (known: {', '.join(sorted(known))})",
            )
        path = self._builtin / f"{vendor}.toml"
        doc = read_file(path)
        if doc["vendor"].get("id") != vendor:
            raise MappingError(path, "vendor.id", f"must be {vendor!r}, the file's name")
        return [(str(path), doc)]

    def _build(self, vendor: str) -> VendorMapping:
        docs = self._docs.get(vendor) or self._base_docs(vendor, None)
        doc = docs[0][1]
        if vendor in self._builtin_ids and docs[0][0] != str(self._builtin / f"{vendor}.toml"):
            doc = _with_redaction(doc, self._base_docs(vendor, None)[0][1])
        for _, overlay in docs[1:]:
            doc = merge(doc, overlay)
        return build(doc, [file for file, _ in docs])


def _with_redaction(doc: dict[str, Any], builtin: dict[str, Any]) -> dict[str, Any]:
    """A file replacing a built-in vendor (``id = "twilio"``) with the built-in's ``[redact]``
    added to its own: a replacement is written to change how answers read, and a file that
    only lists codes would otherwise put the vendor's account id back in every log line. As
    with an overlay, a user file adds secrets and never unmasks the vendor's."""
    theirs = builtin.get("redact", {})
    if not theirs:
        return doc
    mine = doc.get("redact", {})
    fields = ("keys", "after_segments")
    return {**doc, "redact": {f: [*mine.get(f, []), *theirs.get(f, [])] for f in fields}}


def _declared_hosts(doc: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(dotted key, host) for every host a mapping document names itself."""
    for host in doc.get("detect", {}).get("hosts", []):
        yield "detect.hosts", host
    for table in ("aliases", "products"):
        for name, spec in doc.get(table, {}).items():
            for host in spec.get("hosts", []):
                yield f"{table}.{name}.hosts", host


def _claimed_hosts(mapping: VendorMapping) -> tuple[str, ...]:
    """Every host that detects a vendor: ``[detect]``, its aliases' and its products'."""
    return mapping.hosts + tuple(h for p in mapping.products.values() for h in p.selector.hosts)


def _outside() -> int:
    """The ``stacklevel`` of the first caller outside this module (register_mappings, the
    environment variable's first use...): where the file was registered."""
    level, frame = 1, sys._getframe(1)
    while frame.f_back is not None and frame.f_code.co_filename == __file__:
        level, frame = level + 1, frame.f_back
    return level


_default = Registry()


def default_registry() -> Registry:
    """The process-wide registry used by :func:`lookup`, :func:`classify` and the transports."""
    return _default


def register_mappings(*paths: str | os.PathLike[str]) -> tuple[str, ...]:
    """Load mapping files or directories into the default registry; returns the vendor ids.

    A file with ``vendor.id`` adds a vendor (or replaces a built-in one); a file with
    ``vendor.extends`` overrides and extends an existing vendor's entries.
    """
    return _default.register(*paths)
