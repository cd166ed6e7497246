"""Repeated blocks: runs of operations with the same shape, which the engine emits as loops.

A function written by a loop — Σ tanh(w_i·x_i + b_i), a layer of units, a chain
s ← s·(1 + a·sin s) — is the same few operations again and again. Straight-line code for
it grows with n (27 MB of source and 13 s of `compile()` for the tanh sum at n = 100,000),
and every call streams through all of that bytecode. Found here, such a run is compiled
as one `for` loop over its repeats, whose body is the straight-line code of one repeat.

The search reads the operations in evaluation order and gives each a signature: its
operation, and for each argument whether it is an input, which constant, or how many
operations back it was computed. A run is where the signatures repeat with a period p.
A run becomes a block only if one repeat can stand for every other one:
- an operation's arguments are inputs used nowhere else (a new one per repeat), inputs
  the same in every repeat, constants, operations of the same repeat, or operations of
  the repeat before (carried, like a running sum);
- its values are used only inside the repeat and by the next one;
- it depends on an input and reaches the output; a named step is one in every repeat, at
  the same place (its adjoint is listed per repeat, like a new input's).
The last repeat of a run stays straight-line code (its values are what the code after the
run reads), so a block is what the loop covers; its order of operations is the
straight-line order, so the results are the same to the bit.
"""
from __future__ import annotations

from dataclasses import dataclass

from ...cases.ir import Graph, Node

MIN_REPEATS = 2000  # below this, straight-line code is as fast or faster (measured: README, Performance)
MAX_TRIES = 32     # candidate periods tried at each position
MAX_PERIOD = 4096  # longest repeat, in operations


@dataclass
class Block:
    """`repeats` repeats of a template of operations, to be emitted as one loop."""
    ops: list[int]            # node ids of every repeat's operations, repeat after repeat
    period: int               # operations per repeat
    template: Graph           # one repeat: its leaves (carried, each, same, constants) then its operations
    carried: list[tuple[int, int]]   # per carried leaf: (offset of the operation producing it, node feeding repeat 0)
    each: list[list[int]]     # per leaf that is a new input in every repeat: that input in each repeat
    same: list[int]           # per leaf that is the same input in every repeat: that input
    steps: list[int]          # offsets of the named steps in a repeat

    @property
    def repeats(self) -> int:
        return len(self.ops) // self.period

    def listed(self) -> list[int]:
        """The nodes whose adjoints the loop lists, repeat after repeat: in each repeat its
        new inputs, then its named steps."""
        return [x for r in range(self.repeats) for x in
                [inputs[r] for inputs in self.each] + [self.ops[r * self.period + o] for o in self.steps]]

    @property
    def last_repeat(self) -> list[int]:
        """The operations of the last looped repeat (what the code after the loop reads)."""
        return self.ops[len(self.ops) - self.period:]


def find_blocks(graph: Graph, live: list[bool], min_repeats: int = MIN_REPEATS) -> list[Block]:
    """The repeated blocks of `graph`, in evaluation order, not overlapping."""
    nodes = graph.nodes
    ops = [i for i in range(graph.output + 1) if nodes[i].op not in ("input", "const")]
    if len(ops) < 2 * (min_repeats + 1):
        return []
    useful = graph.upstream()
    named = set(graph.named.values())
    position = [-1] * len(nodes)
    for p, i in enumerate(ops):
        position[i] = p
    sigs = _signatures(graph, ops, position, [live[i] and useful[i] for i in range(len(nodes))], named)
    last_user, uses = graph.users(graph.output)
    following = _next_same(sigs)
    ends: dict[int, int] = {}
    blocks: list[Block] = []
    p = 0
    while p < len(ops):
        period, count = _longest_period(sigs, following, p, min_repeats, ends)
        if not period:
            p += 1
            continue
        block = _block(graph, ops, position, p, period, count, live, last_user, uses, min_repeats, named)
        if block is None:
            p += period
            continue
        blocks.append(block)
        p = position[block.ops[-1]] + 1 + period  # the repeat after the block stays straight-line
    return blocks


def _signatures(graph: Graph, ops: list[int], position: list[int], loopable: list[bool],
                named: set[int]) -> list[int]:
    """Each operation's shape as a small integer (a named step's differs from the same
    operation unnamed); an operation that may not be looped gets one of its own."""
    nodes = graph.nodes
    ids: dict[tuple, int] = {}
    out = []
    for p, i in enumerate(ops):
        node = nodes[i]
        if not loopable[i]:
            out.append(-1 - p)
            continue
        key = (node.op, i in named, *(("input",) if nodes[a].op == "input" else ("const", repr(nodes[a].value))
                          if nodes[a].op == "const" else p - position[a] for a in node.args))
        out.append(ids.setdefault(key, len(ids)))
    return out


def _next_same(sigs: list[int]) -> list[int]:
    following = [-1] * len(sigs)
    seen: dict[int, int] = {}
    for p in range(len(sigs) - 1, -1, -1):
        following[p] = seen.get(sigs[p], -1)
        seen[sigs[p]] = p
    return following


def _longest_period(sigs: list[int], following: list[int], p: int, min_repeats: int,
                    ends: dict[int, int]) -> tuple[int, int]:
    """The shortest period with which the signatures from p repeat more than min_repeats times.

    `ends[period]` remembers how far an earlier scan found that period repeating, so a run
    is scanned once however many times the search comes back into it."""
    q = following[p]
    for _ in range(MAX_TRIES):
        if q < 0 or q - p > MAX_PERIOD:
            break
        period = q - p
        end = max(q, ends.get(period, 0))
        while end < len(sigs) and sigs[end] == sigs[end - period]:
            end += 1
        ends[period] = end
        count = (end - p) // period
        if count > min_repeats:
            return period, count
        q = following[q]
    return 0, 0


def _block(graph: Graph, ops: list[int], position: list[int], p: int, period: int, count: int,
           live: list[bool], last_user: list[int], uses: list[int], min_repeats: int,
           named: set[int]) -> Block | None:
    """The block of the run at p, shortened to the repeats that one template describes; None if too short."""
    nodes = graph.nodes

    def op(r: int, o: int) -> int:
        return ops[p + r * period + o]

    # Classify every argument of the template from repeats 0 and 1 (the signatures agree on the rest).
    slots = []  # per offset, per argument: ("op", o) | ("carried", o') | ("input", node in repeat 0) | ("const", node)
    for o in range(period):
        row = []
        for k, a in enumerate(nodes[op(0, o)].args):
            kind = nodes[a].op
            if kind == "const":
                row.append(("const", a))
            elif kind == "input":
                row.append(("input", a))
            else:
                back = o - (p + o - position[a])   # offset of the argument in this repeat
                if back >= 0:
                    row.append(("op", back))
                elif back >= -period:
                    row.append(("carried", back + period))
                else:
                    return None  # reaches two repeats back
        slots.append(row)
    carried = sorted({s[1] for row in slots for s in row if s[0] == "carried"})
    if any(not live[nodes[op(0, o)].args[k]] for o, row in enumerate(slots)
           for k, s in enumerate(row) if s[0] == "carried"):
        return None  # repeat 0 is fed by a constant: the run is better started one repeat later
    inputs0 = list(dict.fromkeys(s[1] for row in slots for s in row if s[0] == "input"))

    where = {a: [(o, k) for o, row in enumerate(slots) for k, s in enumerate(row) if s == ("input", a)]
             for a in inputs0}

    def inputs_of(a: int, r: int) -> list[int]:
        """The inputs that repeat r uses where repeat 0 uses input a."""
        return [nodes[op(r, o)].args[k] for o, k in where[a]]

    same = [a for a in inputs0 if inputs_of(a, 1) == [a] * len(where[a])]
    each0 = sorted(a for a in inputs0 if a not in same)  # in the inputs' order, as their gradients are listed
    good = 0  # repeats that fit the template
    for r in range(count):
        # values used only in their own repeat and the next (the last fitting repeat's by anything)
        ok = r == count - 1 or all(last_user[op(r, o)] <= op(r + 1, period - 1) for o in range(period))
        for a in inputs0:
            here = inputs_of(a, r)
            if a in same:
                ok = ok and here == [a] * len(here)
            else:  # a new input, used nowhere else
                ok = ok and len(set(here)) == 1 and uses[here[0]] == len(here) and here[0] not in same
        if not ok:
            break
        good += 1
    # The last fitting repeat's values may be read by anything after it: it stays straight-line.
    looped = good - 1
    if looped < min_repeats:
        return None

    template = Graph()
    index: dict[tuple, int] = {}
    for o in carried:
        index["carried", o] = template.add(Node("input", text=f"carried{o}"))
    for a in each0:
        index["input", a] = template.add(Node("input", text=nodes[a].text))
    for a in same:
        index["input", a] = template.add(Node("input", text=nodes[a].text))
    for row in slots:
        for s in row:
            if s[0] == "const" and s not in index:
                index[s] = template.add(nodes[s[1]])
    first = len(template.nodes)
    for o, row in enumerate(slots):
        args = tuple(first + s[1] if s[0] == "op" else index[s] for s in row)
        template.add(Node(nodes[op(0, o)].op, args))
    template.output = len(template.nodes) - 1
    feeds = {}
    for o, row in enumerate(slots):
        for k, s in enumerate(row):
            if s[0] == "carried":
                feeds.setdefault(s[1], nodes[op(0, o)].args[k])
    return Block(
        ops=[op(r, o) for r in range(looped) for o in range(period)], period=period, template=template,
        carried=[(o, feeds[o]) for o in carried],
        each=[[inputs_of(a, r)[0] for r in range(looped)] for a in each0],
        same=same, steps=[o for o in range(period) if op(0, o) in named])
