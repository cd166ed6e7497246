"""bench.md, bench.json and bench.svg: the study's plain data, formatted."""
from __future__ import annotations

import json
import platform

from ..reports.folder import ReportFolder
from .problems import FAMILIES


def describe(row: dict) -> str:
    if row.get("seconds") is None:
        return f"{row['function']:>9} n={row['n']:<7} {row['method']:<14} {row['status']}"
    ratio = f"{row['ratio']:8.2f}x plain" if row.get("ratio") else ""
    return (f"{row['function']:>9} n={row['n']:<7} {row['method']:<14} {row['seconds'] * 1e3:10.3f} ms "
            f"(min {row['min_seconds'] * 1e3:.3f}) {ratio}")


def machine() -> str:
    import os
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def write(document: dict, folder: ReportFolder) -> None:
    """Into a folder made before the benchmark ran (refused then if it is not tridiff's)."""
    folder.write("bench.json", json.dumps(document, indent=1) + "\n")
    folder.write("bench.md", markdown(document))
    folder.write("bench.svg", plot(document))


def markdown(document: dict) -> str:
    from tabulate import tabulate
    rows = []
    for r in document["rows"]:
        rows.append([r["function"], r["n"], r["method"],
                     "—" if r.get("seconds") is None else f"{r['seconds'] * 1e3:.3f}",
                     "—" if r.get("min_seconds") is None else f"{r['min_seconds'] * 1e3:.3f}",
                     "—" if not r.get("ratio") else f"{r['ratio']:.2f}",
                     "—" if not r.get("prepare_seconds") else f"{r['prepare_seconds']:.3f}", r["status"]])
    vector = [[r["n"], r["points"], f"{r['numpy_seconds'] * 1e3:.2f}", f"{r['backprop_seconds'] * 1e3:.2f}",
               f"{r['ratio']:.2f}", f"{r['ratio_min']:.2f}" if "ratio_min" in r else ""]
              for r in document.get("arrays", [])]
    net = [[r["method"], f"{r['seconds'] * 1e3:.3f}", f"{r['min_seconds'] * 1e3:.3f}", f"{r['ratio']:.2f}",
            f"{r['ratio_min']:.2f}", f"{r['max_rel_diff_vs_tridiff']:.1e}" if r["method"] not in ("tridiff", "numpy forward")
            else ""] for r in document.get("network", [])]
    api = [[r["function"], r["n"], r["method"], OVER.get(r["method"], ""), f"{r['vs_raw']:.2f}", f"{r['vs_raw_min']:.2f}"]
           for r in document["rows"] if r.get("vs_raw")]
    # A section only for what ran: `--family network` alone times no scalar family.
    text = (f"# tridiff bench\n\nMachine: {document['machine']}. Median of {document['repeats']} runs "
            "(min beside it); calls timed together take turns, the order rotated between repeats.\n")
    if rows:
        text += (f"Budget {document['budget_seconds']:g} s per method and n; each method in its own process. "
                 "`ratio` is the method's time over the plain Python loop's (value only), both timed in the "
                 "method's own process, interleaved; `prepare` is building/compiling, timed once and not included.\n\n"
                 + tabulate(rows, headers=["function", "n", "method", "median ms", "min ms", "ratio", "prepare s",
                                           "status"], tablefmt="github", disable_numparse=True) + "\n")
    if api:
        text += ("\n## Read against another method\n\nAt the same n, both timed in one process, interleaved: "
                 "`value_and_grad` (a mapping of inputs in, a mapping of gradients out) over the engine's `raw` "
                 "(a list in, a tuple out); `hvp`, a Hessian-vector product H·v (backprop over the gradient "
                 "written as nodes), over one gradient by backprop:\n\n"
                 + tabulate(api, headers=["function", "n", "method", "over", "medians", "minima"], tablefmt="github",
                            disable_numparse=True) + "\n")
    if vector:
        text += ("\n## Many points at once (numpy)\n\nValue and full gradient of tanh_sum at every point, against "
                 "the numpy-vectorised function alone (median ms; the two timed interleaved):\n\n"
                 + tabulate(vector, headers=["n", "points", "numpy f", "value + gradient", "ratio", "ratio of minima"],
                            tablefmt="github", disable_numparse=True) + "\n")
    return text + (_network(net, document["network"][0].get("threads")) if net else "")


def _network(rows: list[list[str]], threads: int | None) -> str:
    from tabulate import tabulate

    from .network import BATCH, CLASSES, FEATURES, HIDDEN
    return ("\n## Arrays: a two-layer network\n\n"
            f"`h = relu(X @ W1 + b1)`, `p = softmax(h @ W2 + b2)`, `loss = −Σ Y·log p / {BATCH}`: a batch of {BATCH}, "
            f"{FEATURES} features, {HIDDEN} hidden units, {CLASSES} classes. Value + gradient of W1, b1, W2, b2 "
            "against the forward pass alone in numpy (`ratio`), all timed in one process, interleaved"
            + (f", every engine on {threads} thread{'s' if threads != 1 else ''}" if threads else "") + "; each "
            "gradient checked against tridiff's (largest difference of any element, relative to that gradient's largest element):\n\n"
            + tabulate(rows, headers=["method", "median ms", "min ms", "ratio", "ratio of minima", "vs tridiff"],
                       tablefmt="github", disable_numparse=True) + "\n")


OVER = {"value_and_grad": "raw", "hvp": "backprop"}  # what a method is read against (timing.BESIDE)


def plot(document: dict) -> str:
    import io

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    plt.rcParams.update({"svg.hashsalt": "tridiff", "svg.fonttype": "none", "font.size": 9})
    families = sorted({r["function"] for r in document["rows"]}, key=list(FAMILIES).index)
    network = document.get("network") or []
    # One panel per scalar family, and one for the network when it ran (`--family network`
    # alone has no scalar family: a figure of no panels is what crashed, issue 30).
    panels = max(1, len(families) + bool(network))
    fig, axes = plt.subplots(1, panels, figsize=(4.6 * panels, 3.8), squeeze=False)
    if network:
        _network_panel(axes[0][len(families)], network)
    elif not families:
        axes[0][0].set_axis_off()
        axes[0][0].text(0.5, 0.5, "nothing was timed", ha="center", va="center")
    for ax, family in zip(axes[0], families):
        rows = [r for r in document["rows"] if r["function"] == family and r.get("seconds")]
        for method in dict.fromkeys(r["method"] for r in rows):
            pts = [(r["n"], r["seconds"]) for r in rows if r["method"] == method]
            ax.plot(*zip(*pts), marker="o", ms=3.5, label=method)
        if rows:
            n0 = min(r["n"] for r in rows)
            t0 = min(r["seconds"] for r in rows)
            top = max(r["n"] for r in rows)
            for p, style in ((1, ":"), (2, "-.")):
                ax.plot([n0, top], [t0, t0 * (top / n0) ** p], color="#999999", lw=0.8, ls=style,
                        label=f"slope {p} (∝ n{'²' if p == 2 else ''})")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(family)
        ax.set_xlabel("n")
        ax.set_ylabel("seconds (median)")
        ax.grid(True, lw=0.3, alpha=0.5)
        ax.legend(fontsize=7, frameon=False)
    fig.tight_layout()
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    plt.close(fig)
    return buffer.getvalue()


def _network_panel(ax, rows: list[dict]) -> None:
    """The network family: each method's median time, as a bar, with its ratio to numpy's forward pass."""
    names = [r["method"] for r in rows]
    seconds = [r["seconds"] * 1e3 for r in rows]
    ax.barh(range(len(rows)), seconds, color="#4878a8")
    ax.set_yticks(range(len(rows)), names)
    ax.invert_yaxis()  # the first method (numpy's forward pass, the unit) on top
    for i, r in enumerate(rows):
        ax.text(seconds[i], i, f" {r['ratio']:.2f}x", va="center", fontsize=7)
    ax.set_xlabel("ms (median)")
    ax.set_title("network (value + gradient)")
    ax.margins(x=0.2)
