"""Which vendor mappings exist: the built-in files, $NORMALIZER_MAPPINGS, and registered ones.

Built-in vendors are read lazily, one file when its vendor is first used, so importing
normalizer costs nothing and a process that talks to one vendor parses one file. Registering a
file that names hosts reads them all once, to warn when two vendors claim one host.

What a file becomes is kept in a per-user cache on disk (:class:`MappingCache`), keyed by the
content of every file a mapping is built from, so a fresh process reads a vendor without
parsing TOML; the files stay the source of truth, the cache is only ever a faster way to the
same result.
"""

from __future__ import annotations

import functools
import gc
import hashlib
import os
import stat
import sys
import threading
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ._exceptions import MappingError, UnregisteredVendorError
from ._mapping import Target, VendorMapping, _host_matches, build, merge, read_bytes, read_file

ENV_VAR = "NORMALIZER_MAPPINGS"
CACHE_VAR = "NORMALIZER_CACHE_DIR"
"""Where the compiled mappings are kept; set to an empty string to keep none."""
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


class MappingCache:
    """Mapping files as they are built, kept on disk so a fresh process need not parse TOML.

    Each entry is keyed by a SHA-256 of the cache's format, this Python and the code that
    builds mappings, and the path and content of every file the entry comes from: an entry
    whose files changed is never found (stale entries are pruned), and one that cannot be
    read (absent, truncated, another version's) reads as missing. Every failure here is
    silent; the caller parses the files as if there were no cache.

    Entries are pickles, and unpickling can run code: an entry is read only from a directory
    that belongs to this user and no one else may enter (mode 0700, created so, never
    followed through a symlink), only when the file itself belongs to this user, is a regular
    file and no one else may write it (checked on the opened file, so it cannot be swapped
    after the check). Anyone who could plant a pickle there could already run code as this
    user. Where that cannot be checked (no ``os.getuid``: Windows), nothing is cached.
    """

    FORMAT = 2
    KEPT = 256
    """Entries kept; past it the oldest are removed."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._usable: bool | None = None

    @classmethod
    def default(cls) -> MappingCache | None:
        """``$NORMALIZER_CACHE_DIR`` (an empty value: no cache), else the user's cache
        directory: ``$XDG_CACHE_HOME/normalizer`` or ``~/.cache/normalizer``."""
        if not hasattr(os, "getuid"):
            return None
        chosen = os.environ.get(CACHE_VAR)
        if chosen is not None:
            return cls(Path(chosen)) if chosen else None
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        return cls(Path(base) / "normalizer")

    def key(self, kind: str, files: Iterable[tuple[str, bytes]]) -> str:
        """The entry name for ``kind`` built from ``files`` (path, content digest)."""
        digest = hashlib.sha256(self.fingerprint())
        digest.update(kind.encode())
        for path, content in files:
            digest.update(b"\0" + path.encode("utf-8", "surrogateescape") + b"\0" + content)
        return f"{kind}-{digest.hexdigest()}.pickle"

    def fingerprint(self) -> bytes:
        """What an entry depends on besides its files: this code, this Python."""
        return _fingerprint()

    def load(self, name: str) -> Any:
        """The entry ``name``, or None (absent, unreadable, or not safe to read)."""
        if not self._safe_root(create=False):
            return None
        try:
            fd = os.open(self.root / name, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            return None
        try:
            info = os.fstat(fd)
            if (
                not stat.S_ISREG(info.st_mode)
                or info.st_uid != os.getuid()
                or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
            ):
                return None
            with os.fdopen(fd, "rb") as fh:
                fd = -1
                data = fh.read()
            return _unpickled(data)
        except Exception:  # a truncated or foreign entry reads as missing
            return None
        finally:
            if fd >= 0:
                os.close(fd)

    def store(self, name: str, value: object) -> None:
        """Keep ``value`` as entry ``name`` (written whole or not at all)."""
        if not self._safe_root(create=True):
            return
        import pickle
        import tempfile

        try:
            data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
            fd, temporary = tempfile.mkstemp(dir=self.root, prefix=".tmp-")  # mode 0600
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                os.replace(temporary, self.root / name)
            except BaseException:
                os.unlink(temporary)
                raise
            self._prune()
        except Exception:  # a full disk or a read-only home: no cache, nothing else changes
            return

    def _safe_root(self, *, create: bool) -> bool:
        """Whether the directory is this user's alone (made so when ``create``)."""
        if self._usable:
            return True
        try:
            if create and not os.path.lexists(self.root):
                os.makedirs(self.root, mode=0o700, exist_ok=True)
            info = os.lstat(self.root)
        except OSError:
            return False
        self._usable = (
            stat.S_ISDIR(info.st_mode)
            and info.st_uid == os.getuid()
            and not info.st_mode & (stat.S_IRWXG | stat.S_IRWXO)
        )
        return self._usable

    def _prune(self) -> None:
        entries = sorted(self.root.glob("*.pickle"), key=lambda p: p.stat().st_mtime)
        for old in entries[: max(0, len(entries) - self.KEPT)]:
            old.unlink(missing_ok=True)


_NO_CACHE: Any = object()


def _unpickled(data: bytes) -> Any:
    """``pickle.loads`` without the garbage collector's passes over the thousands of objects
    it makes (none of which can be garbage yet): a third of the time otherwise."""
    try:
        from _pickle import loads
    except ImportError:  # pragma: no cover - an interpreter without the C pickle
        from pickle import loads
    paused = gc.isenabled()
    gc.disable()
    try:
        return loads(data)
    finally:
        if paused:
            gc.enable()


@functools.cache
def _fingerprint() -> bytes:
    here = Path(__file__).resolve().parent
    digest = hashlib.sha256(f"{MappingCache.FORMAT} {sys.version}".encode())
    for name in ("_mapping.py", "_category.py", "_registry.py", "_callback_spec.py"):
        try:
            digest.update((here / name).read_bytes())
        except OSError:
            digest.update(name.encode())
    return digest.digest()


class Registry:
    """Vendor mappings by id.

    Layers, later ones winning: the built-in files, the files named by ``$NORMALIZER_MAPPINGS``
    (read when the registry is first used), then files given to :meth:`register`. A file with
    ``vendor.id`` defines (or replaces) a vendor; one with ``vendor.extends`` overlays it.
    """

    def __init__(
        self,
        *,
        builtin: Path | None = None,
        environ: bool = True,
        cache: MappingCache | None = _NO_CACHE,
    ) -> None:
        self._builtin = builtin_dir() if builtin is None else builtin
        self._environ = environ
        self._cache = MappingCache.default() if cache is _NO_CACHE else cache
        self._digests: dict[str, bytes] = {}
        """The content digest of every file read, by path: part of a built mapping's key."""
        self._lock = threading.RLock()
        self._started = False
        self._builtin_ids: frozenset[str] = frozenset()
        # per vendor: the documents it is built from, base first, as (file, document)
        self._docs: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        self._built: dict[str, VendorMapping] = {}
        self._by_host: dict[str, tuple[VendorMapping, ...]] = {}
        self.generation = 0
        """Counts :meth:`register` calls, so users of a mapping know to look it up again."""
        self._routes: dict[tuple[str, str | None, str | None], tuple[Any, str | None]] = {}
        """What :func:`normalizer.classify` found for a (vendor, product, URL): the compiled
        way its bodies are read and the URL's path, one ``dict.get`` for the next body;
        emptied by :meth:`register`, which may change any vendor."""

    def _start(self) -> None:
        if self._started:
            return
        with self._lock:
            if self._started:
                return
            if self._builtin.is_dir():
                # os.listdir, not Path.glob: a tenth of the time, in every first lookup
                names = os.listdir(self._builtin)
                self._builtin_ids = frozenset(n[:-5] for n in names if n.endswith(".toml"))
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
        loaded = [(str(path), self._read(path)) for path in expand(paths)]
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
            for vid in touched:
                self._built.pop(vid, None)
            for vid in dict.fromkeys(touched):  # build now: an overlay's errors show at once
                self._built[vid] = self._build(vid)
            # forgotten once the new mappings are built: a classify() in another thread that
            # read the old ones can only have kept its reader in the dict being replaced
            self._by_host = {}
            self._routes = {}
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
        doc = self._read(path)
        if doc["vendor"].get("id") != vendor:
            raise MappingError(path, "vendor.id", f"must be {vendor!r}, the file's name")
        return [(str(path), doc)]

    def _build(self, vendor: str) -> VendorMapping:
        cache = self._cache
        if cache is None:
            return self._parse(vendor)
        files = [file for file, _ in self._docs.get(vendor, ())]
        replaced = vendor in self._builtin_ids and (files or [""])[0] != self._builtin_file(vendor)
        if not files:
            files = [self._builtin_file(vendor)]
        elif replaced:
            files.append(self._builtin_file(vendor))  # its [redact] is kept
        name = self._entry_name(cache, "mapping", files)
        if name is not None:
            cached = cache.load(name)
            if isinstance(cached, VendorMapping) and cached.id == vendor:
                return cached
        mapping = self._parse(vendor)
        name = self._entry_name(cache, "mapping", files)  # as the files were when parsed
        if name is not None:
            cache.store(name, mapping)
        return mapping

    def _parse(self, vendor: str) -> VendorMapping:
        docs = self._docs.get(vendor) or self._base_docs(vendor, None)
        doc = docs[0][1]
        if vendor in self._builtin_ids and docs[0][0] != self._builtin_file(vendor):
            builtin = self._base_docs(vendor, None)[0][1]
            doc = _with_resend(_with_redaction(doc, builtin), builtin)
        for _, overlay in docs[1:]:
            doc = merge(doc, overlay)
        return build(doc, [file for file, _ in docs])

    def _builtin_file(self, vendor: str) -> str:
        return str(self._builtin / f"{vendor}.toml")

    def _read(self, path: str | Path) -> dict[str, Any]:
        """A mapping file's checked document: from the cache when its content was read before."""
        content = read_bytes(path)
        self._digests[str(path)] = hashlib.sha256(content).digest()
        cache = self._cache
        name = None if cache is None else self._entry_name(cache, "document", [str(path)])
        if cache is not None and name is not None:
            cached = cache.load(name)
            if isinstance(cached, dict):
                return cached
        doc = read_file(path, content)
        if cache is not None and name is not None:
            cache.store(name, doc)
        return doc

    def _entry_name(self, cache: MappingCache, kind: str, files: list[str]) -> str | None:
        """The cache entry of what ``files`` build (None: a file is not readable)."""
        digests = []
        for file in files:
            digest = self._digests.get(file)
            if digest is None:
                try:
                    digest = hashlib.sha256(read_bytes(file)).digest()
                except MappingError:
                    return None  # parsing it says why
                self._digests[file] = digest
            digests.append((file, digest))
        return cache.key(kind, digests)


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


def _with_resend(doc: dict[str, Any], builtin: dict[str, Any]) -> dict[str, Any]:
    """A file replacing a built-in vendor keeps the built-in's ``[resend]`` unless it declares
    its own: a copy of the codes made before the vendor's send safety was written must not
    make its GET sends safe to resend again."""
    if "resend" in doc or "resend" not in builtin:
        return doc
    return {**doc, "resend": builtin["resend"]}


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
