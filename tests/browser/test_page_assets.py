"""What `netra serve` sends for the page: its own files only, no CDN, no HTML sinks."""

from __future__ import annotations

import re
from importlib.resources import files
from pathlib import Path

import httpx

from tests.support import ServerProcess

STATIC = Path(str(files("netra.web") / "static"))
SINKS = re.compile(
    r"\.(innerHTML|outerHTML)\b|insertAdjacentHTML|document\.write|\beval\(|new Function\("
    r"|setAttribute\(\s*['\"](style|on\w+)['\"]"
)
REMOTE = re.compile(r"""(src|href|from|import)\s*=?\s*\(?\s*["'](https?:)?//""")


def test_every_file_of_the_page_is_served_by_the_installed_package(server: ServerProcess) -> None:
    index = httpx.get(f"{server.url}/", timeout=10)
    assert index.status_code == 200
    assert "Content-Security-Policy" in index.text
    referenced = set(re.findall(r'(?:href|src)="([\w./-]+\.(?:js|css|svg))"', index.text))
    modules = {path.name for path in STATIC.glob("*.js")}
    assert modules <= referenced, f"modules not preloaded by index.html: {modules - referenced}"
    for name in sorted(referenced):
        response = httpx.get(f"{server.url}/{name}", timeout=10)
        assert response.status_code == 200, name
        if name.endswith(".js"):
            assert "javascript" in response.headers["content-type"], name


def test_the_page_loads_nothing_from_other_origins_and_never_parses_html() -> None:
    for path in sorted(STATIC.iterdir()):
        text = path.read_text()
        assert not REMOTE.search(text), f"{path.name} references another origin"
        if path.suffix == ".js":
            assert not SINKS.search(text), f"{path.name} uses an HTML sink: {SINKS.search(text)}"
            imports = re.findall(r"""from\s+['"]([^'"]+)['"]""", text)
            assert all(spec.startswith("./") for spec in imports), f"{path.name}: {imports}"
