"""Package URLs, the artifact ids CDEvents carry, parsed as the purl specification says."""

from __future__ import annotations

import pytest

from ledger.ingest.purl import PackageUrl, parse_purl

DIGEST = "sha256:1f04c1cf8c648ef4a03c3da4077550b138fe05e0b2bd15a9b610730e57734fca"


def test_an_oci_image_by_digest_with_its_repository() -> None:
    purl = parse_purl(
        f"pkg:oci/checkout@{DIGEST.replace(':', '%3A')}?repository_url=ghcr.io/acme/checkout"
    )
    assert purl == PackageUrl(
        type="oci",
        namespace=None,
        name="checkout",
        version=DIGEST,
        qualifiers={"repository_url": "ghcr.io/acme/checkout"},
        subpath=None,
    )


@pytest.mark.parametrize(
    ("value", "namespace", "name", "version"),
    [
        (
            "pkg:golang/mygit.com/myorg/myapp@234fd47e07d1004f0aed9c",
            "mygit.com/myorg",
            "myapp",
            "234fd47e07d1004f0aed9c",
        ),
        ("pkg:npm/%40acme/checkout-ui@2.1.0", "@acme", "checkout-ui", "2.1.0"),
        ("pkg:maven/com.acme/checkout@1.4.0?type=jar#lib", "com.acme", "checkout", "1.4.0"),
        ("pkg:OCI/checkout", None, "checkout", None),
    ],
)
def test_namespace_name_and_version_come_apart(
    value: str, namespace: str | None, name: str, version: str | None
) -> None:
    purl = parse_purl(value)
    assert (purl.namespace, purl.name, purl.version) == (namespace, name, version)


def test_the_type_is_lowercased_and_the_subpath_kept() -> None:
    purl = parse_purl("pkg:Maven/com.acme/checkout@1.4.0#docs/api")
    assert (purl.type, purl.subpath) == ("maven", "docs/api")


@pytest.mark.parametrize(
    "value", ["checkout@1.0", "https://ghcr.io/acme/checkout", "pkg:oci", "pkg:/@1"]
)
def test_what_is_not_a_package_url_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="pkg:type/name"):
        parse_purl(value)
