"""`tridiff fuzz`: random functions at hard points through every engine, judged against
the certified reference; the wrong ones shrunk to minimal case files (docs/cli.md)."""
from __future__ import annotations

import json
from pathlib import Path

from ..errors import CaseError
from ..progress import Progress
from ..reports.folder import OTHER_OUTPUT, replacing
from ..runner.execute import load_plugins
from . import report
from .campaign import run

__all__ = ["command", "run"]


def command(args) -> int:
    """The command line's `fuzz`: exit 1 where there are findings, 0 where there are none."""
    if args.cases < 1 or not 1 <= args.depth <= 8:
        raise CaseError("--cases must be at least 1 and --depth 1 to 8", "e.g. --cases 500 --depth 4",
                        file="<command line>", field="--cases")
    plugins = load_plugins(args.method, 60.0)
    with replacing(Path(args.out), "the fuzz report", OTHER_OUTPUT) as folder:  # refused before the campaign runs
        shown = Progress(args.cases)
        campaign = run(args.seed, args.cases, plugins, depth=args.depth, budget=args.budget,
                       progress=lambda done, found: shown(done, [f"{found} findings"]))
        shown.close()
        files = []
        for n, finding in enumerate(campaign["findings"], 1):
            name, text = report.case_file(finding, n)
            folder.write(f"findings/{name}", text)
            files.append(f"findings/{name}")
        folder.write("README.md", report.markdown(campaign, files))
        folder.write("campaign.json", json.dumps(campaign, indent=1, ensure_ascii=False) + "\n")
    print(f"{campaign['cases']:,} functions, {len(campaign['findings'])} findings; report in {args.out}/README.md")
    return 1 if campaign["findings"] else 0
