"""Package URLs (purl), the artifact ids of CDEvents: ``pkg:type/namespace/name@version?q=v#sub``.

Parsed as the purl specification says: split the subpath, the qualifiers and the version off
from the right, then type, namespace and name from the left; components are percent-decoded.
"""

from __future__ import annotations

from urllib.parse import unquote

from msgspec import Struct


class PackageUrl(Struct, frozen=True, kw_only=True):
    type: str
    namespace: str | None
    name: str
    version: str | None
    qualifiers: dict[str, str]
    subpath: str | None


def parse_purl(value: str) -> PackageUrl:
    """The parts of a package URL; ValueError says what is wrong with it."""
    scheme, colon, rest = value.partition(":")
    if not colon or scheme.lower() != "pkg":
        raise ValueError(f"{value!r} is not a package URL (pkg:type/name@version)")
    rest, _, subpath = rest.strip("/").partition("#")
    rest, _, query = rest.partition("?")
    path, at, version = rest.rpartition("@")
    if not at:
        path, version = rest, ""
    kind, slash, names = path.strip("/").partition("/")
    segments = [unquote(s) for s in names.split("/") if s]
    if not kind or not slash or not segments:
        raise ValueError(f"{value!r} lacks a type or a name (pkg:type/name@version)")
    return PackageUrl(
        type=kind.lower(),
        namespace="/".join(segments[:-1]) or None,
        name=segments[-1],
        version=unquote(version) or None,
        qualifiers=_qualifiers(query),
        subpath=unquote(subpath.strip("/")) or None,
    )


def _qualifiers(query: str) -> dict[str, str]:
    pairs = (item.partition("=") for item in query.split("&") if item)
    return {key.lower(): unquote(val) for key, _, val in pairs if key and val}
