"""The chain rule as the notes write it, from results.json's `chain_rule` (formatting only).

    ∂L/∂a = ∂L/∂e · ∂e/∂d · ∂d/∂a = -2 · 1 · -2 = 4

Numbers are rounded to 6 significant digits for reading; the gradient tables keep every
digit.
"""
from __future__ import annotations

CHAIN_HEADERS = ["node", "∂output/∂node: the local derivatives multiplied along each path from the output, "
                         "the paths added"]
LOCAL_HEADERS = ["local derivative", "symbolic", "value here"]


def short(x: float) -> str:
    text = f"{x:.6g}"
    return "0" if text == "-0" else text


def _d(of: str, wrt: str) -> str:
    return f"∂{of}/∂{wrt}"


def chain_rows(point: dict) -> list[list[str]]:
    written = point.get("chain_rule")
    if not written:
        return []
    local = {(f["of"], f["wrt"]): f["value"] for f in written["locals"]}
    form = {(f["of"], f["wrt"]): f["symbolic"] for f in written["locals"]}
    gradient = {n["node"]: n["value"] for n in written["nodes"]}
    rows = []
    for node in written["nodes"]:
        symbols, numbers = [], []
        for term in node["terms"]:
            pairs = list(zip(term, term[1:]))
            if node["through_users"] and len(term) == 3:  # ∂L/∂u (already known) · ∂u/∂node
                factors = [(_d(term[0], term[1]), gradient[term[1]]), (_d(*pairs[1]), local[pairs[1]])]
            else:
                factors = [(_d(*pair), local[pair]) for pair in pairs]
            symbols.append(" · ".join(s for s, _ in factors))
            product = " · ".join(short(v) for _, v in factors)
            numbers.append(f"({product})" if len(node["terms"]) > 1 and len(factors) > 1 else product)
        output = node["terms"][0][0]
        if len(node["terms"]) == 1 and len(node["terms"][0]) == 2:  # read by the output alone: one factor
            pair = tuple(node["terms"][0])
            rows.append([node["node"], f"{_d(*pair)} = {form[pair]} = {short(node['value'])}"])
            continue
        rows.append([node["node"], f"{_d(output, node['node'])} = {' + '.join(symbols)} = {' + '.join(numbers)} = "
                                   f"{short(node['value'])}"])
    return rows


def local_rows(point: dict) -> list[list[str]]:
    written = point.get("chain_rule")
    if not written:
        return []
    return [[_d(f["of"], f["wrt"]), f["symbolic"], short(f["value"])] for f in written["locals"]]
