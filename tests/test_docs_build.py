"""`make docs` builds the site with MkDocs in strict mode: any warning (a broken link or anchor, a
page left out of the navigation, an API reference entry that does not resolve) fails the build.

No ``-q``: MkDocs counts strict-mode warnings through its log, and ``-q`` hides them, so a quiet
strict build passes with warnings (the control test below shows the check has teeth)."""
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _build(config: Path, site: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config),
                           "-d", str(site)], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_docs_site_builds_without_warnings(tmp_path):
    res = _build(ROOT / "mkdocs.yml", tmp_path / "site")
    assert res.returncode == 0, res.stdout + res.stderr
    assert (tmp_path / "site" / "index.html").is_file()
    pages = list((tmp_path / "site").rglob("index.html"))
    docs = list((ROOT / "docs").glob("*.md"))
    assert len(pages) >= len(docs), (len(pages), len(docs))


def test_a_broken_link_fails_the_strict_build(tmp_path):
    """The control: the same build over a copy of docs/ with one dead link must fail."""
    docs = tmp_path / "docs"
    shutil.copytree(ROOT / "docs", docs)
    page = sorted(docs.glob("*.md"))[0]
    page.write_text(page.read_text() + "\n[dead](no-such-page.md)\n")
    shutil.copy2(ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    res = _build(tmp_path / "mkdocs.yml", tmp_path / "site")
    assert res.returncode != 0
    assert "no-such-page.md" in res.stdout + res.stderr
