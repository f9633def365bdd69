"""List every run of 8 or more words that a lesson shares with the course sources.

The course is written in our own words (issue 14): a long run of words copied from a source
is a sign a sentence needs rewriting. Not run in CI (the sources are not part of the
repository); run it before landing a lesson:

    .venv/bin/python dev/source_overlap.py                       # lessons/ vs ../shared/course-sources
    .venv/bin/python dev/source_overlap.py path/to/sources -n 10 --lessons lessons

Words are compared case-insensitively, ignoring punctuation and Markdown/TOML markup, so a
copied sentence with new commas still shows. Each overlap is printed once, as the longest run:

    lessons/10-prompting.md:41: (12 words, 003_7b29e02a8fcaa803.txt:17) "you are an expert ..."

Exit status: 0 when nothing overlaps, 1 when something does, 2 when a folder is missing.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_WORD_RE = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*")


def words_with_lines(text: str) -> list[tuple[str, int]]:
    """Every word of ``text``, lowercased, with its 1-based line."""
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        out.extend((w, number) for w in _WORD_RE.findall(line.casefold().replace("\u2019", "'")))
    return out


def source_ngrams(folder: Path, n: int) -> dict[tuple[str, ...], str]:
    """Every n-word sequence of every source file, with where it first occurs."""
    grams: dict[tuple[str, ...], str] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        words = words_with_lines(path.read_text(encoding="utf-8", errors="replace"))
        for i in range(len(words) - n + 1):
            gram = tuple(w for w, _ in words[i : i + n])
            grams.setdefault(gram, f"{path.relative_to(folder)}:{words[i][1]}")
    return grams


def overlaps(text: str, grams: dict[tuple[str, ...], str], n: int) -> list[tuple[int, int, str, str]]:
    """Maximal runs of ``text`` made of source n-grams: (line, words, source, the words)."""
    words = words_with_lines(text)
    hits = [tuple(w for w, _ in words[i : i + n]) in grams for i in range(len(words) - n + 1)]
    runs = []
    i = 0
    while i < len(hits):
        if not hits[i]:
            i += 1
            continue
        start = i
        while i + 1 < len(hits) and hits[i + 1]:
            i += 1
        end = i + n  # exclusive word index
        first = tuple(w for w, _ in words[start : start + n])
        runs.append((words[start][1], end - start, grams[first],
                     " ".join(w for w, _ in words[start:end])))
        i += 1
    return runs


def main(argv: list[str] | None = None) -> int:
    """Print the overlaps of every lesson and quiz file; see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("sources", nargs="?", type=Path,
                        default=ROOT / ".." / "shared" / "course-sources",
                        help="folder of source texts (default: ../shared/course-sources "
                        "beside the repository)")
    parser.add_argument("--lessons", type=Path, default=ROOT / "lessons",
                        help="lessons folder (default: the repository's lessons/)")
    parser.add_argument("-n", "--words", type=int, default=8,
                        help="shortest run of shared words to report (default 8)")
    args = parser.parse_args(argv)
    for folder in (args.sources, args.lessons):
        if not folder.is_dir():
            print(f"{folder}: no such folder", file=sys.stderr)
            return 2
    n = max(2, args.words)
    grams = source_ngrams(args.sources, n)
    found = 0
    files = sorted([*args.lessons.glob("*.md"), *args.lessons.glob("*.quiz.toml")])
    for path in files:
        if path.name.lower() == "readme.md":
            continue
        for line, length, source, text in overlaps(path.read_text(encoding="utf-8"), grams, n):
            found += 1
            shown = text if len(text) <= 160 else text[:157] + "..."
            print(f"{path}:{line}: ({length} words, {source}) \"{shown}\"")
    print(f"{found} run(s) of {n}+ words shared with {args.sources}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
