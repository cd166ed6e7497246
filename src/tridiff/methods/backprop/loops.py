"""Repeated blocks (tridiff.methods.backprop.repeats) as loops, and the gradients gathered from their lists."""
from __future__ import annotations

from collections.abc import Callable
from operator import itemgetter

from ...cases.ir import Graph
from .adjoints import Adjoints
from .lines import as_tuple, needed, op_code, value_names
from .repeats import Block


def gather_gradients(graph: Graph, blocks: list[Block], adjoint: dict[int, str], extra: dict) -> str:
    """The named nodes' adjoints as one tuple: loose variables and stretches of the loops' lists.

    Inputs are usually numbered repeat by repeat, as a block's list holds them: then the
    tuple is a few stretches copied whole. Otherwise an itemgetter picks them one by one."""
    in_lists = {x: (j, k) for j, block in enumerate(blocks) for k, x in enumerate(block.listed())}
    parts: list[list] = []  # [variable] or [block, first index, last index]
    for i in graph.named.values():
        j, k = in_lists.get(i, (None, 0))
        if j is None:
            parts.append([adjoint.get(i, "0.0")])
        elif parts and len(parts[-1]) == 3 and parts[-1][0] == j and parts[-1][2] == k - 1:
            parts[-1][2] = k
        else:
            parts.append([j, k, k])
    if len(parts) > 2 * len(blocks) + 16:
        everything = [adjoint.get(i, "0.0") for i in graph.named.values() if i not in in_lists]
        at = {i: k for k, i in enumerate(i for i in graph.named.values() if i not in in_lists)}
        offset = len(everything)
        for block in blocks:
            listed = block.listed()
            for k, x in enumerate(listed):
                at[x] = offset + k
            offset += len(listed)
        extra["pick_gradients"] = itemgetter(*(at[i] for i in graph.named.values()))
        return f"pick_gradients(({', '.join(everything)}, {', '.join(f'*L{j}out' for j in range(len(blocks)))}))"
    items = []
    for part in parts:
        if len(part) == 1:
            items.append(part[0])
        else:
            j, first, last = part
            whole = first == 0 and last == blocks[j].repeats * (len(blocks[j].each) + len(blocks[j].steps)) - 1
            items.append(f"*L{j}out" if whole else f"*L{j}out[{first}:{last + 1}]")
    return f"({', '.join(items)},)"


class Loop:
    """One repeated block as two loops: forward over its repeats, then backward in reverse.

    The body of each is the straight-line code of one repeat (the template), so every
    value and every adjoint is computed by the same operations in the same order as the
    straight-line code would. New inputs are read from slices of `inputs`; values the
    backward pass needs are appended to lists (floats only: a tuple per repeat would wake
    the cyclic garbage collector); the adjoints of the new inputs and of the named steps go
    on a list, repeat after repeat; carried values and adjoints pass through loop
    variables; the adjoints of inputs used by every repeat are added up in one variable each."""

    def __init__(self, block: Block, j: int, outer_val: Callable[[int], str], position: dict[int, int],
                 extra: dict):
        self.block, self.p = block, f"L{j}"
        t = block.template
        self.live = t.depends_on_inputs()
        self.carry = len(block.carried)
        self.first_each, self.first_same = self.carry, self.carry + len(block.each)
        self.first = len(t.nodes) - block.period
        self.names = value_names(t, self.live, prefix=self.p)
        # The forward loop keeps no value for the backward one, which recomputes them; only
        # a carried value also used inside its repeat needs a name no later value takes.
        used = {a for node in t.nodes for a in node.args}
        self.forward_names = value_names(t, self.live, prefix=self.p, kept=[
            x - self.first in {o for o, _ in block.carried} and x in used for x in range(len(t.nodes))])
        self.outer_val = outer_val
        # The backward loop recomputes the values it reads (and what they are computed
        # from) instead of keeping them: cheaper than storing and reloading every one
        # (chain at n = 100,000: 3.8 instead of 5.2 times the plain loop), and only the
        # carried values it starts from are kept.
        cone = needed(t, self.live)
        for x in range(len(t.nodes) - 1, self.first - 1, -1):
            if cone[x]:
                for a in t.nodes[x].args:
                    cone[a] = True
        self.recomputed = [x for x in range(self.first, len(t.nodes)) if cone[x]]
        self.saved = [x for x in range(self.carry) if cone[x]]
        self.each_needed = [e for e in range(len(block.each)) if cone[self.first_each + e]]
        self.gathers = []
        for e, inputs in enumerate(block.each):
            at = [position[x] for x in inputs]
            step = at[1] - at[0]
            if step > 0 and at == list(range(at[0], at[-1] + 1, step)):
                self.gathers.append(f"inputs[{at[0]}:{at[-1] + 1}{f':{step}' if step > 1 else ''}]")
            else:
                extra[f"pick_{self.p}E{e}"] = itemgetter(*at)
                self.gathers.append(f"pick_{self.p}E{e}(inputs)")

    def val(self, x: int, forward: bool = False) -> str:
        """How template node x is written: in the backward loop, or (`forward`) the forward loop."""
        node = self.block.template.nodes[x]
        if node.op == "const":
            return repr(node.value)
        if x < self.first_each:
            return f"{self.p}c{x}"
        if x < self.first_same:
            return f"{self.p}e{x - self.first_each}"
        if x < self.first:
            return self.outer_val(self.block.same[x - self.first_same])
        return (self.forward_names if forward else self.names)[x]

    def _for(self, targets: list[str], iterables: list[str]) -> str:
        if not iterables:
            return f"    for _ in range({self.block.repeats}):"
        if len(iterables) == 1:
            return f"    for {targets[0]} in {iterables[0]}:"
        return f"    for {', '.join(targets)} in zip({', '.join(iterables)}):"

    def forward(self) -> list[str]:
        b, p = self.block, self.p
        shape = " ".join(b.template.nodes[x].op for x in range(self.first, len(b.template.nodes)))
        lines = [f"    # nodes {b.ops[0]}..{b.ops[-1]}: {b.repeats} repeats of {shape}"]
        lines += [f"    {p}c{k} = {self.outer_val(feed)}" for k, (_, feed) in enumerate(b.carried)]
        lines += [f"    {p}E{e} = {gather}" for e, gather in enumerate(self.gathers)]
        for k in range(len(self.saved)):
            lines += [f"    {p}K{k} = []", f"    {p}push{k} = {p}K{k}.append"]
        lines.append(self._for([f"{p}e{e}" for e in range(len(b.each))], [f"{p}E{e}" for e in range(len(b.each))]))
        lines += [f"        {p}push{k}({self.val(x)})" for k, x in enumerate(self.saved)]
        lines += ["        " + op_code(b.template, x, lambda y: self.val(y, forward=True))
                  for x in range(self.first, len(b.template.nodes))]
        lines += self._assign([f"{p}c{k}" for k in range(self.carry)],
                              [self.val(self.first + o, forward=True) for o, _ in b.carried])
        return lines

    def backward(self, outer: Adjoints) -> None:
        b, p = self.block, self.p
        t = b.template
        for k, (o, _) in enumerate(b.carried):
            outer.write(f"{p}g{k} = {outer.adjoint[b.last_repeat[o]]}")
        # named steps keep their own variables: their adjoints are listed after the body
        adjoints = Adjoints(t, self.live, self.val, {self.first + o for o in b.steps}, prefix=p, indent="        ")
        for k, (o, _) in enumerate(b.carried):
            adjoints.seed(self.first + o, f"{p}g{k}")
        for s, x in enumerate(b.same):
            adjoints.seed(self.first_same + s, outer.accumulator(x))
        for x in range(len(t.nodes) - 1, self.first - 1, -1):
            adjoints.chain_rule(x)
        listed = [self.first_each + e for e in range(len(b.each))] + [self.first + o for o in b.steps]
        width = len(listed)
        outer.write(f"{p}out = []")
        outer.write(f"{p}put = {p}out.{'extend' if width > 1 else 'append'}")
        targets = [self.val(x) for x in self.saved] + [f"{p}e{e}" for e in self.each_needed]
        iterables = [f"reversed({p}K{k})" for k in range(len(self.saved))] + \
            [f"reversed({p}E{e})" for e in self.each_needed]
        body = [self._for(targets, iterables), *("        " + op_code(t, x, self.val) for x in self.recomputed),
                *adjoints.lines]
        if width:  # in reverse, so that reversing the list puts it in the inputs' order
            body.append(f"        {p}put({as_tuple([adjoints.adjoint[x] for x in reversed(listed)])})")
        body += self._assign([f"{p}g{k}" for k in range(self.carry)], [adjoints.adjoint[k] for k in range(self.carry)])
        if len(body) == 1:  # nothing to do per repeat (x + 1 + 1 + ...: every local derivative is 1)
            body.append("        pass")
        if width:
            body.append(f"    {p}out.reverse()")
        outer.lines += body
        outer.where += [-1] * len(body)
        for k, (_, feed) in enumerate(b.carried):
            outer.contribute(feed, f"{p}g{k}", -1, shareable=True)

    @staticmethod
    def _assign(targets: list[str], values: list[str]) -> list[str]:
        """One simultaneous assignment (values may swap), leaving out what already holds its value."""
        pairs = [(t, v) for t, v in zip(targets, values) if t != v]
        if not pairs:
            return []
        return [f"        {', '.join(t for t, _ in pairs)} = {', '.join(v for _, v in pairs)}"]
