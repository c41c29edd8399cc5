"""Swagger UI and ReDoc, installed from the npm registry into ``server/static/vendor/``.

``python -m server.docs_assets`` (run by ``make`` and the Dockerfile) downloads each pinned
package once, checks it against the registry's sha512 integrity, and keeps only the files the
docs pages load. The server itself never fetches anything: without these files the docs pages
answer 503 and say how to install them.
"""

from __future__ import annotations

import base64
import hashlib
import io
import sys
import tarfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PACKAGES", "VENDOR", "install", "missing"]

VENDOR = Path(__file__).resolve().parent / "static" / "vendor"
REGISTRY = "https://registry.npmjs.org"


@dataclass(frozen=True, slots=True)
class Package:
    name: str
    version: str
    integrity: str  # the registry's "dist.integrity" of the tarball
    files: dict[str, str]  # path in the tarball -> name under VENDOR

    @property
    def tarball(self) -> str:
        return f"{REGISTRY}/{self.name}/-/{self.name}-{self.version}.tgz"


PACKAGES = (
    Package(
        "swagger-ui-dist",
        "5.35.0",
        "sha512-U06rpMtW9V3XPGOBeamTUSr0Z09jMX4IJuANpE/EZbAhw0G8CgwrzU4YmXkn/h0wCDNsXdGarTNNHC3sU8yVUQ==",
        {
            "package/swagger-ui-bundle.js": "swagger-ui-bundle.js",
            "package/swagger-ui.css": "swagger-ui.css",
            "package/LICENSE": "swagger-ui.LICENSE",
        },
    ),
    Package(
        "redoc",
        "2.5.4",  # the classic standalone bundle (3.x needs an ES module page)
        "sha512-M6jWhG1qoBnH6TFmzJnstyCZ87HmOY/UzDm78mHiYihEdlV/YcS9ogOo1NlElnJMeLsyxHFe2yFc4sNjHTrABQ==",
        {
            "package/bundles/redoc.standalone.js": "redoc.standalone.js",
            "package/LICENSE": "redoc.LICENSE",
        },
    ),
)


def missing(vendor: Path = VENDOR) -> list[str]:
    """The vendored files not installed yet."""
    return [n for p in PACKAGES for n in p.files.values() if not (vendor / n).is_file()]


def _verified(package: Package, data: bytes) -> bytes:
    algorithm, _, expected = package.integrity.partition("-")
    digest = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
    if digest != expected:
        raise SystemExit(f"{package.tarball}: integrity mismatch (got {algorithm}-{digest})")
    return data


def install(vendor: Path = VENDOR) -> list[str]:
    """Fetch what is missing; return the names installed."""
    installed: list[str] = []
    for package in PACKAGES:
        if all((vendor / name).is_file() for name in package.files.values()):
            continue
        with urllib.request.urlopen(package.tarball, timeout=60) as response:
            data = _verified(package, response.read())
        vendor.mkdir(parents=True, exist_ok=True)
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            for member, name in package.files.items():
                extracted = archive.extractfile(member)
                if extracted is None:
                    raise SystemExit(f"{package.tarball}: {member} is not a file")
                temporary = vendor / (name + ".part")
                temporary.write_bytes(extracted.read())
                temporary.replace(vendor / name)  # never a half-written asset
                installed.append(name)
    return installed


if __name__ == "__main__":
    try:
        names = install()
    except OSError as exc:
        sys.exit(f"cannot fetch the API docs assets from {REGISTRY}: {exc}")
    if names:
        print(f"installed docs assets: {', '.join(names)}")
