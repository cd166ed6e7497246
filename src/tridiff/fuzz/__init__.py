"""`tridiff fuzz`: random functions at hard points through every engine, judged against
the certified reference; the wrong ones shrunk to minimal case files (docs/cli.md)."""
from __future__ import annotations

import contextlib
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
    if args.executor != "local":
        from ..cluster import check_executor
        check_executor(args.executor)
    start, found = _resumed(Path(args.out), args) if args.resume else (0, [])
    with replacing(Path(args.out), "the fuzz report", OTHER_OUTPUT) as folder, _executor(args.executor, plugins) as runner:
        shown = Progress(args.cases)
        campaign = run(args.seed, args.cases, plugins, depth=args.depth, budget=args.budget, start=start,
                       found=found, runner=runner, progress=lambda done, n: shown(done, [f"{n} findings"]))
        shown.close()
        files = []
        for n, finding in enumerate(campaign["findings"], 1):
            name, text = report.case_file(finding, n, campaign["versions"].get(finding["engine"]))
            folder.write(f"findings/{name}", text)
            files.append(f"findings/{name}")
        folder.write("README.md", report.markdown(campaign, files))
        folder.write("campaign.json", json.dumps(campaign, indent=1, ensure_ascii=False) + "\n")
    print(f"functions {campaign['start']:,} to {campaign['next'] - 1:,} of seed {campaign['seed']}, "
          f"{len(campaign['findings'])} findings; report in {args.out}/README.md (more: --resume)")
    return 1 if campaign["findings"] else 0


def _resumed(out: Path, args) -> tuple[int, list[dict]]:
    """Where the campaign in `out` stopped, and its findings: the same seed and depth only."""
    try:
        before = json.loads((out / "campaign.json").read_text(encoding="utf-8"))
        start, found = int(before["next"]), list(before["findings"])
        same = before["seed"] == args.seed and before["depth"] == args.depth
    except (OSError, ValueError, KeyError, TypeError):
        raise CaseError(f"no campaign to resume in {out}/", "run without --resume first",
                        file=str(out / "campaign.json"), field="--resume") from None
    if not same:
        raise CaseError(f"the campaign in {out}/ is seed {before['seed']}, depth {before['depth']}",
                        f"resume it with --seed {before['seed']} --depth {before['depth']}, or choose another --out",
                        file=str(out / "campaign.json"), field="--seed")
    return start, found


@contextlib.contextmanager
def _executor(executor: str, plugins: dict):
    """What runs each batch: the local workers (None), or a Dask cluster kept for the campaign."""
    if executor == "local":
        yield None
        return
    from ..cluster import connected
    with connected(None if executor == "dask" else executor, 2) as on_cluster:
        yield lambda batch: on_cluster(batch, 30.0, plugins)
