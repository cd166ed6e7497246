"""The README's "Check your own gradient" comparison: one logistic regression with a planted bug
(w[2]'s sign flipped), checked by tridiff.check, scipy.optimize.check_grad and
torch.autograd.gradcheck. Needs scipy and torch: python scripts/check_your_gradient.py [--right]"""
import sys

import numpy as np
rng = np.random.default_rng(0)
X = rng.normal(size=(20, 3)); y = np.sign(rng.normal(size=20)); w = np.array([0.5, -0.25, 0.1])

def loss(w, X, y, lam):
    return np.mean(np.log1p(np.exp(-y * (X @ w)))) + lam * np.sum(w * w)

def grad(w, X, y, lam):
    s = 1 / (1 + np.exp(y * (X @ w)))
    g = X.T @ (-y * s) / len(y) + 2 * lam * w
    if "--right" not in sys.argv:
        g[2] = -g[2]   # the planted bug
    return g

import tridiff
result = tridiff.check(loss, {"w": w, "X": X, "y": y, "lam": 0.1}, grad=grad, wrt=["w"])
print(result)
print(result.wrong)

from scipy.optimize import check_grad
print(check_grad(lambda w: loss(w, X, y, 0.1), lambda w: grad(w, X, y, 0.1), w))

import torch
from torch.autograd.gradcheck import GradcheckError
Xt, yt = torch.tensor(X), torch.tensor(y)
class Loss(torch.autograd.Function):
    @staticmethod
    def forward(ctx, w):
        ctx.save_for_backward(w)
        return torch.tensor(loss(w.detach().numpy(), X, y, 0.1))
    @staticmethod
    def backward(ctx, g):
        (w,) = ctx.saved_tensors
        return g * torch.tensor(grad(w.detach().numpy(), X, y, 0.1))
try:
    print(torch.autograd.gradcheck(Loss.apply, (torch.tensor(w, requires_grad=True),)))
except GradcheckError as e:
    print(type(e).__name__, e)
