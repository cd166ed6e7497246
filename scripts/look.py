"""Render the report pages as a reader sees them: index.html and one case's section, to PNG,
in headless Chromium (Debian's `chromium` package: `apt-get install -y chromium`).

    python scripts/look.py [REPORTS] [CASE] [--out DIR]

writes DIR/index.png (the top of the page) and DIR/CASE.png (that case alone: its
section of index.html, with the page's own styles), default REPORTS=reports,
CASE=staged-circuit, DIR=look. Look at them before saying a page reads well. Needs no
network: the pages are self-contained.
"""
from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path


def section(page: str, case: str) -> str:
    """The page's head and one case's section (from its heading to the next case's)."""
    head = page[:page.index("<body>") + len("<body>")]
    start = page.index(f'<h2 id="{case}">')
    following = re.search(r'<h2 id="', page[start + 1:])
    end = start + 1 + following.start() if following else page.index("</body>")
    return head + page[start:end] + "</body></html>\n"


def shoot(chromium: str, html: Path, png: Path, height: int) -> None:
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    "--virtual-time-budget=5000", f"--screenshot={png}", f"--window-size=1400,{height}",
                    html.resolve().as_uri()], check=True, capture_output=True, timeout=120)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reports", nargs="?", default="reports")
    parser.add_argument("case", nargs="?", default="staged-circuit")
    parser.add_argument("--out", default="look")
    args = parser.parse_args()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("no chromium here: apt-get install -y chromium", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    index = Path(args.reports) / "index.html"
    page = index.read_text(encoding="utf-8")
    if f'<h2 id="{args.case}">' not in page:
        print(f"no case '{args.case}' in {index}", file=sys.stderr)
        return 2
    alone = out / f"{args.case}.html"
    alone.write_text(section(page, args.case), encoding="utf-8")
    shoot(chromium, index, out / "index.png", 1800)
    shoot(chromium, alone, out / f"{args.case}.png", 6000)
    print(f"wrote {out / 'index.png'} and {out / (args.case + '.png')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
