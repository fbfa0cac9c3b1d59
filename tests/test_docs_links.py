"""Every relative link of the documentation leads somewhere: the file exists and, for a link to a
heading (``page.md#heading``), the page has that heading. The pages checked are README.md,
CHANGELOG.md, docs/**/*.md and the folders' own README.md files; links inside code are not links.

Also the shape docs/results.md keeps (issue 27): short, current figures only, a section for the
round's candidates, and every dated record under docs/experiments/ listed in its index.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS_LIMIT = 200

LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)
CODE_SPAN = re.compile(r"`[^`\n]*`")
HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$", re.M)


def pages(root: Path) -> list[Path]:
    found = [root / "README.md", root / "CHANGELOG.md", *sorted((root / "docs").rglob("*.md"))]
    found += sorted(p for p in root.glob("*/README.md") if p.parent.name != "docs")
    return [p for p in found if p.is_file()]


def prose(text: str) -> str:
    """The page without fenced code blocks and code spans."""
    return CODE_SPAN.sub("", FENCE.sub("", text))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "").strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    seen: dict[str, int] = {}
    found = set()
    for heading in HEADING.findall(FENCE.sub("", page.read_text())):
        base = slug(heading)
        n = seen.get(base, 0)
        seen[base] = n + 1
        found.add(base if n == 0 else f"{base}-{n}")
    return found


def broken_links(files: list[Path], root: Path) -> list[str]:
    broken = []
    for page in files:
        for target in LINK.findall(prose(page.read_text())):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto:
                continue
            path, _, anchor = target.partition("#")
            dest = (page.parent / path).resolve() if path else page
            where = f"{page.relative_to(root)}: {target}"
            if not dest.exists():
                broken.append(f"{where} (no such file)")
            elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
                broken.append(f"{where} (no heading #{anchor})")
    return broken


def test_every_relative_link_of_the_docs_resolves():
    files = pages(ROOT)
    assert len(files) > 10, [str(p) for p in files]
    assert not broken_links(files, ROOT), "\n".join(broken_links(files, ROOT))


def test_the_link_check_finds_a_missing_file_and_a_missing_heading(tmp_path: Path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("# A page\n\n## Real clips: `duets`\n")
    (tmp_path / "README.md").write_text(
        "[ok](docs/a.md) [ok too](docs/a.md#real-clips-duets) [web](https://example.org/x.md)\n"
        "`[code](gone.md)`\n\n```\n[fenced](gone.md)\n```\n"
        "[gone](docs/gone.md) ![picture](docs/gone.png) [bad anchor](docs/a.md#section-3)\n"
    )
    assert broken_links(pages(tmp_path), tmp_path) == [
        "README.md: docs/gone.md (no such file)",
        "README.md: docs/gone.png (no such file)",
        "README.md: docs/a.md#section-3 (no heading #section-3)",
    ]


def test_the_results_page_is_short_and_ends_with_the_candidates_section():
    text = (ROOT / "docs" / "results.md").read_text()
    assert text.count("\n") <= RESULTS_LIMIT
    assert HEADING.findall(text)[-1] == "Candidates this round"


def test_every_dated_experiment_is_in_the_index():
    folder = ROOT / "docs" / "experiments"
    records = sorted(p.name for p in folder.glob("*.md") if p.name != "README.md")
    assert records and all(re.fullmatch(r"\d{4}-\d{2}-\d{2}-[a-z0-9-]+\.md", name) for name in records), records
    index = (folder / "README.md").read_text()
    assert [name for name in records if f"]({name})" not in index] == []
