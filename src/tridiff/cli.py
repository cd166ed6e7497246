"""The command line (docs/cli.md). Heavy libraries are imported only by the commands that use them."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import __version__
from .cases.files import MAX_NAME, MISSING_PATH, NAME, NOT_A_FILE, load_library
from .errors import CaseError, did_you_mean, one_line
from .reports.folder import OTHER_OUTPUT, replacing, write_file
from .runner.results import PASSING

EXIT_OK, EXIT_MISMATCH, EXIT_INVALID = 0, 1, 2

EPILOG = """\
exit codes: 0 every case right, or limited by float64 only (or the files are valid); 1 some case
mismatched, could not be evaluated (error), or has a point where the derivative does not
exist (nondifferentiable);
2 some case file is invalid (the valid cases still run) or the command was misused.
Errors are one line each on stderr: file:line: case: field: what is wrong; what to write instead.
"""


class _Parser(argparse.ArgumentParser):
    """argparse, its usage errors in one line like every other error (exit 2)."""

    def error(self, message: str):
        print(one_line(f"error: <command line>: {message}; see `{self.prog} --help`"), file=sys.stderr)
        raise SystemExit(EXIT_INVALID)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="tridiff", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
                                description="Differentiate example functions symbolically, numerically and by "
                                            "backprop, and report how far each lands from the exact derivative.")
    p.add_argument("--version", action="version", version=f"tridiff {__version__}")
    p.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    c = sub.add_parser("check", help="validate case files without running them")
    c.add_argument("paths", nargs="*", default=["cases"], metavar="PATH", help="case files or folders (default: cases)")

    c = sub.add_parser("run", help="differentiate the cases every way and write the reports")
    c.add_argument("paths", nargs="*", default=["cases"], metavar="PATH", help="case files or folders (default: cases)")
    c.add_argument("--out", default="reports", metavar="DIR", help="report folder, replaced whole (default: reports)")
    c.add_argument("--wide", action="store_true", help="the summary with every method and scheme as a column "
                                                       "(default: what fits in 100 columns)")
    c.add_argument("--case", action="append", metavar="NAME",
                   help="run only the cases whose name matches (glob patterns allowed; repeat for more)")
    c.add_argument("--timeout", type=float, default=60.0, metavar="SECONDS",
                   help="time limit per case; a case over it is reported as an error (default: 60)")
    c.add_argument("--method", action="append", default=[], metavar="NAME|MODULE:FUNCTION",
                   help="add a differentiator: an installed method (torch, jax) or module:function / file.py:function")
    c.add_argument("--precision", default="float64", metavar="P,P,...",
                   help="also run finite differences and backprop in float32 and/or float16 (e.g. float64,float32)")
    c.add_argument("--jobs", type=int, default=min(4, os.cpu_count() or 1), metavar="N",
                   help="cases (and their plots) done at once, in worker processes (default: the cores, at most 4; "
                        "never more than the cores or the cases)")
    c.add_argument("--executor", default="local", metavar="local|dask|dask://HOST:PORT",
                   help="where cases run: worker processes on this machine (default), a local Dask cluster, or "
                        "the Dask scheduler at HOST:PORT (needs tridiff[dask]); the reports are the same")

    c = sub.add_parser("show", help="print the summary, or one case's tables, from existing reports")
    c.add_argument("case", nargs="?", metavar="CASE", help="a case name (default: the summary of all cases)")
    c.add_argument("--reports", default="reports", metavar="DIR", help="the report folder (default: reports)")
    c.add_argument("--wide", action="store_true", help="the summary with every method and scheme as a column")

    c = sub.add_parser("bench", help="time backprop, finite differences and sympy against the plain function")
    c.add_argument("--quick", action="store_true", help="n = 10, 100, 1000 and short budgets: under a minute")
    c.add_argument("--out", default="bench", metavar="DIR", help="where bench.md/json/svg go (default: bench)")
    c.add_argument("--budget", type=float, metavar="SECONDS", help="time limit per method and n (default 60, quick 3)")
    c.add_argument("--repeats", type=int, metavar="N", help="timings per figure; the median is kept (default 9, quick 7)")
    c.add_argument("--family", action="append", metavar="NAME", help="tanh_sum, mlp, chain, steps or network (default: all)")
    c.add_argument("--sizes", metavar="N,N,...", help="the values of n (default 10..100000, quick 10..1000)")

    c = sub.add_parser("fuzz", help="random functions at hard points through every engine: the wrong ones, shrunk")
    c.add_argument("--seed", type=int, default=0, help="the campaign's seed: the same seed, the same findings")
    c.add_argument("--cases", type=int, default=500, metavar="N", help="functions to try (default 500)")
    c.add_argument("--budget", type=float, metavar="SECONDS", help="no new batch of functions after this long")
    c.add_argument("--depth", type=int, default=4, help="operations nested at most (default 4)")
    c.add_argument("--method", action="append", default=[], metavar="NAME|MODULE:FUNCTION", help="an engine to test")
    c.add_argument("--out", default="fuzz", metavar="DIR", help="the report and the findings' case files")
    c.add_argument("--resume", action="store_true", help="go on from where the campaign in --out stopped")
    c.add_argument("--executor", default="local", metavar="local|dask|dask://HOST:PORT", help="as run's")

    c = sub.add_parser("trace", help="write the case file of your Python function, traced at given points")
    c.add_argument("function", metavar="FILE.py:NAME", help="the function, e.g. model.py:loss (or module:name)")
    c.add_argument("--at", required=True, metavar="POINT.yaml", help="its keyword arguments: a YAML mapping of "
                   "numbers and nested lists (or a list of such mappings, one per point)")
    c.add_argument("--wrt", metavar="NAME,NAME,...", help="the arguments to differentiate; the others are data "
                   "(default: all but integer arrays)")
    c.add_argument("--out", metavar="FILE", help="where to write it (default: cases/NAME.yaml, or ./NAME.yaml without cases/)")
    c.add_argument("--timeout", type=float, default=60.0, metavar="SECONDS", help="time limit for importing and "
                   "tracing (default 60)")

    c = sub.add_parser("schema", help="print the JSON Schema of case files (for editors)")
    c.add_argument("--out", metavar="FILE", help="write it to FILE instead")

    c = sub.add_parser("list", help="one line a case: name, function, points")
    c.add_argument("paths", nargs="*", default=["cases"], metavar="PATH", help="case files or folders (default: cases)")
    c.add_argument("--format", choices=("table", "json"), default="table", help="table (default) or json")

    c = sub.add_parser("new", help="write a commented template case file")
    c.add_argument("name", help="the case name: lowercase letters, digits and '-'")
    c.add_argument("--function", metavar="EXPR", help="the function, e.g. '2*x**2 - 3*x + 4'")
    c.add_argument("--out", metavar="FILE", help="where to write it (default: cases/NAME.yaml, or ./NAME.yaml without cases/)")
    return p


def _report_errors(errors: list[CaseError]) -> None:
    for err in errors:
        print(f"error: {err}", file=sys.stderr)


def cmd_check(args) -> int:
    library = load_library(args.paths)
    _report_errors(library.errors)
    files = len({c.file for c in library.cases})
    points = sum(len(c.points) for c in library.cases)
    print(f"{len(library.cases)} valid cases ({points} points) in {files} files; {len(library.errors)} errors")
    return EXIT_INVALID if library.errors else EXIT_OK


MAX_TIMEOUT = 7 * 24 * 3600.0


def cmd_run(args) -> int:
    from . import api
    from .cases.files import PRECISIONS
    from .runner.workers import Contained

    where = dict(file="<command line>")
    precisions = tuple(p.strip() for p in args.precision.split(",") if p.strip())
    for p in precisions:
        if p not in PRECISIONS:
            raise CaseError(f"unknown precision {p!r}", "choose from " + ", ".join(PRECISIONS), **where,
                            field="--precision")
    if args.jobs < 1:
        raise CaseError(f"--jobs {args.jobs} is not a number of processes", "give 1 or more", **where, field="--jobs")
    if not 0 < args.timeout <= MAX_TIMEOUT:  # also nan; inf would be no limit at all
        raise CaseError(f"--timeout {args.timeout:g} is not a time limit", f"give a number of seconds above 0 "
                        f"(at most {MAX_TIMEOUT:g})", **where, field="--timeout")
    from .cluster import check_executor
    check_executor(args.executor)
    library = api.load(args.paths)
    missing = [e for e in library.errors if e.problem in (MISSING_PATH, NOT_A_FILE)]
    for err in missing:  # a mistyped path: nothing is computed and no report folder is touched
        err.fix += "; nothing was run"
    _report_errors(library.errors)
    if missing:
        return EXIT_INVALID
    cases = api.select(library.cases, args.case)
    if not cases and library.errors and not args.case:
        return EXIT_INVALID  # every file was invalid: said above, one line each
    if not cases:
        raise CaseError("no case to run" + (f": none matches {', '.join(args.case)}" if args.case else ""),
                        "see `tridiff list` for the names", **where, field="--case" if args.case else "PATH")
    with Contained():  # whatever a plug-in starts, here or in a worker, ends with the run
        return _run(args, library, cases, precisions)


def _run(args, library, cases: list, precisions: tuple[str, ...]) -> int:
    from .reports.figures import Figures
    from .reports.text import run_messages, summary_table
    from .reports.write import render_case, write_all
    from .runner.execute import load_plugins, run_cases
    from .runner.results import results_document

    timeout = args.timeout
    stopped: KeyboardInterrupt | None = None
    plugins = load_plugins(args.method, timeout)  # in a worker first, under the time limit
    with replacing(Path(args.out), "the reports") as folder:  # refused before computing if not tridiff's
        from .reports import plots  # noqa: F401  imported once here, so that each worker starts drawing at once
        jobs = min(args.jobs, os.cpu_count() or 1, len(cases))
        if args.executor == "local":
            from .progress import Progress
            progress = Progress(len(cases))
            try:
                runs = run_cases(cases, timeout=timeout, jobs=jobs, plugins=plugins, precisions=precisions,
                                 render=render_case, progress=progress)
            finally:
                progress.close()
        else:
            from .cluster import Stopped, run_cases_on
            try:
                runs = run_cases_on(None if args.executor == "dask" else args.executor, cases, timeout, plugins,
                                    precisions, render_case, jobs)
            except Stopped as stop:  # the finished cases are reported; the others say they were not run
                runs, stopped = stop.runs, stop.cause
        document = results_document([r.result for r in runs])
        figures = Figures({name: svg for r in runs for name, svg in r.figures.items()},
                          {r.result["name"]: r.notes for r in runs if r.notes})
        write_all(document, folder, figures, [r.pages for r in runs])
    if stopped is not None:
        finished = sum(not (c["message"] or "").startswith("not run") for c in document["cases"])
        print(f"{'terminated' if isinstance(stopped, _Terminated) else 'interrupted'}: {finished} of {len(cases)} "
              f"cases finished, reported in {args.out}/ (the others: not run)", file=sys.stderr)
        return 143 if isinstance(stopped, _Terminated) else 130
    print(summary_table(document, args.wide))
    notes, problems = run_messages(document)
    if notes:
        print("\n" + "\n".join(notes))
    for line in problems:
        print(line, file=sys.stderr)
    print(f"{len(cases)} cases; reports in {args.out}/")
    if library.errors:
        return EXIT_INVALID
    return EXIT_OK if all(c["status"] in PASSING for c in document["cases"]) else EXIT_MISMATCH


def cmd_show(args) -> int:
    from .reports.text import case_tables, summary_table
    from .reports.validate import read_results

    path = Path(args.reports) / "results.json"
    document = read_results(path)
    cases = {c["name"]: c for c in document["cases"]}
    if args.case is not None and args.case not in cases:
        raise CaseError(f"no case '{args.case}' in these reports",
                        did_you_mean(args.case, cases, "see `tridiff show` for the names"), file=str(path))
    try:
        print(summary_table(document, args.wide) if args.case is None else case_tables(cases[args.case]))
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, ArithmeticError) as err:
        # what the schema cannot say (a status beside the fields another status has)
        raise CaseError(f"not as tridiff writes a results.json ({type(err).__name__}: {err})",
                        "run `tridiff run` again", file=str(path)) from None
    return EXIT_OK


def cmd_bench(args) -> int:
    from . import bench

    if args.family and set(args.family) - set(bench.NAMES):
        raise CaseError(f"unknown family {sorted(set(args.family) - set(bench.NAMES))}",
                        "choose from " + ", ".join(bench.NAMES), file="<command line>", field="--family")
    try:
        sizes = [int(v) for v in args.sizes.split(",")] if args.sizes else None
    except ValueError:
        raise CaseError(f"--sizes {args.sizes!r} is not a list of whole numbers", "write e.g. 10,100,1000",
                        file="<command line>", field="--sizes") from None
    bad = [n for n in sizes or () if not 1 <= n <= bench.MAX_SIZE]
    if bad:
        raise CaseError(f"--sizes {bad[0]} is out of range", f"give sizes from 1 to {bench.MAX_SIZE:,}",
                        file="<command line>", field="--sizes")
    for name, value, most in (("--budget", args.budget, 24 * 3600.0), ("--repeats", args.repeats, 1000)):
        if value is not None and not 0 < value <= most:
            raise CaseError(f"{name} {value:g} is out of range", f"give a number above 0, at most {most:g}",
                            file="<command line>", field=name)
    with replacing(Path(args.out), "the results", OTHER_OUTPUT) as folder:  # refused before the benchmark runs
        bench.write(bench.run(quick=args.quick, budget=args.budget, repeats=args.repeats, families=args.family,
                              sizes=sizes), folder)
    print(f"wrote {args.out}/bench.md, bench.json, bench.svg")
    return EXIT_OK


def cmd_schema(args) -> int:
    from .cases.schema import dumps, is_schema

    if args.out:
        write_file(Path(args.out), dumps(), ours=is_schema)
        print(f"wrote {args.out}")
    else:
        sys.stdout.write(dumps())
    return EXIT_OK


def cmd_list(args) -> int:
    from tabulate import tabulate

    library = load_library(args.paths)
    _report_errors(library.errors)
    if args.format == "json":
        import json
        print(json.dumps([{"name": c.name, "file": c.file, "title": c.title, "function": c.function,
                           "steps": None if c.function is not None else c.steps, "output": c.output,
                           "inputs": c.inputs, "points": [p.at for p in c.points]}
                          for c in library.cases], indent=1, ensure_ascii=False))
        return EXIT_INVALID if library.errors else EXIT_OK
    rows = []
    for case in library.cases:
        expr = case.expression
        expr = expr if len(expr) <= 60 else expr[:57] + "..."
        at = "; ".join(", ".join(f"{k}={v:g}" for k, v in p.at.items()) for p in case.points)
        rows.append((case.name, expr, at if len(at) <= 70 else at[:67] + "..."))
    print(tabulate(rows, headers=("case", "function", "points"), tablefmt="plain"))
    return EXIT_INVALID if library.errors else EXIT_OK


def cmd_new(args) -> int:
    from .cases.template import render

    if not NAME.match(args.name) or len(args.name) > MAX_NAME:
        raise CaseError(f"name {args.name[:40]!r} is not valid", f"use at most {MAX_NAME} lowercase letters, digits "
                        "and '-'", file="<command line>")
    out = Path(args.out) if args.out else (Path("cases") if Path("cases").is_dir() else Path(".")) / f"{args.name}.yaml"
    try:
        text = render(args.name, args.function)
    except CaseError as err:
        raise err.located(file="<command line>", field="--function")
    from .cases.schema import FILE_NAME, dumps, is_schema

    write_file(out, text, ours=lambda old: False, field="--out" if args.out else "NAME")  # a case file is the user's
    schema_file = out.parent / FILE_NAME
    if not os.path.lexists(schema_file):  # the template points editors at it; one already there is left alone
        try:
            write_file(schema_file, dumps(), ours=is_schema)
        except CaseError as err:
            print(f"warning: {err}", file=sys.stderr)
    print(f"wrote {out}; edit it, then: tridiff check {out}")
    return EXIT_OK


def cmd_trace(args) -> int:
    from .casefile import command

    if not 0 < args.timeout <= MAX_TIMEOUT:
        raise CaseError(f"--timeout {args.timeout:g} is not a time limit", "give a number of seconds above 0",
                        file="<command line>", field="--timeout")
    errors = command(args.function, Path(args.at), args.wrt, args.out, args.timeout)
    _report_errors(errors)
    return EXIT_INVALID if errors else EXIT_OK


def cmd_fuzz(args) -> int:
    from .fuzz import command
    return command(args)


def _in_main_thread() -> bool:
    """Signal handlers can be set only from the main thread (main() may be called from others)."""
    import threading
    return threading.current_thread() is threading.main_thread()


COMMANDS = {"run": cmd_run, "show": cmd_show, "bench": cmd_bench, "schema": cmd_schema, "check": cmd_check, "list": cmd_list, "new": cmd_new,
            "trace": cmd_trace, "fuzz": cmd_fuzz}


class _Terminated(KeyboardInterrupt):
    """SIGTERM, handled as Ctrl-C is: workers stopped, unfinished reports removed."""


def _on_sigterm(signum, frame):
    raise _Terminated()


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings (sympy's, numpy's, a plug-in's) as one line, without the source line Python adds."""
    print(one_line(f"warning: {category.__name__}: {message}"), file=file or sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """The command line; `argv` None: this process's own, and this process is tridiff's
    alone — after a run with plug-ins it ends at once, so that a thread or an exit handler
    a plug-in left behind cannot keep it alive."""
    code = _main(argv)
    if argv is None and "tridiff.runner.execute" in sys.modules and sys.modules["tridiff.runner.execute"].plugged_in():
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except OSError:  # the reader went away
                pass
        os._exit(code)
    return code


def _main(argv: list[str] | None) -> int:
    args = _parser().parse_args(argv)
    import signal
    import warnings

    warnings.showwarning = _one_line_warning
    for stream in (sys.stdout, sys.stderr):  # a terminal or pipe that cannot show "—" or a name gets "?"
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    if _in_main_thread():
        signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        return COMMANDS[args.command](args)
    except CaseError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_INVALID
    except BrokenPipeError:  # the reader went away (`| head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_INVALID
    except KeyboardInterrupt as err:
        terminated = isinstance(err, _Terminated)
        print("terminated" if terminated else "interrupted", file=sys.stderr)
        return 143 if terminated else 130
    except Exception as err:  # an internal error: one line unless --debug
        if args.debug:
            raise
        print(one_line(f"internal error: {type(err).__name__}: {err} (run with --debug for the traceback)"),
              file=sys.stderr)
        return 3
