"""Where every one-sided partial derivative agrees at a kink, the directions along which f's
slope is compared with the sum of its partials (tridiff.methods.reference._kinked)."""
from __future__ import annotations

PAIRS = 6  # inputs a kink sees up to which every pair of them is a direction probed


def probes(before: dict[str, int], inputs) -> list[dict[int, int]]:
    """Directions over the inputs the kinks see (`_before`) along which f's slope is
    compared with the sum of its partial derivatives: every one-sided partial may exist
    and agree while f still bends (max(z) + min(z) at z = (2, 2, 2): each partial is 1,
    yet along (1, 1, 1) the slope is 2, not 3). All of them together and alternately,
    and each pair of them (±eᵢ ± eⱼ, up to PAIRS inputs), both ways: a test that
    can show a kink, not prove there is none. Two inputs in logsumexp of 2,000 numbers
    tied at the top (`_before`), so a few forward passes."""
    seen = [i for name, i in before.items() if name in inputs]
    if len(seen) < 2:
        return []
    signs = [(1,) * len(seen), tuple((-1) ** k for k in range(len(seen)))]
    if len(seen) <= PAIRS:
        signs += [tuple(1 if k == a else s if k == b else 0 for k in range(len(seen)))
                  for a in range(len(seen)) for b in range(a + 1, len(seen)) for s in (1, -1)]
    signs += [tuple(-s for s in sign) for sign in signs]
    return [{i: s for i, s in zip(seen, sign) if s} for sign in dict.fromkeys(signs)]
