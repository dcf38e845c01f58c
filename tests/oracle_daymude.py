"""The closed forms of an individual's optimal dissent from Daymude, Axelrod & Forrest
(2025), "Strategic analysis of dissent and self-censorship" (docs/references.md B2):
``duni``, ``dpro`` and ``opt_actions`` copied from the authors' public code
(DaymudeLab/DissentSelfCensorship, code/opt_action.py, release 1.0.0), unchanged except
for formatting and the plotting code left out. Used by tests/test_users_statement.py as
an oracle for censim's speech choice.

Their licence, as the MIT licence asks, kept with the copied code:

MIT License

Copyright (c) 2025 Joshua J. Daymude

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
"""

# ruff: noqa: N802, E501, B011

import numpy as np


def duni(beta, nu, tau, psi):
    """
    Computes the critical point between (full) self-censorship and defiance
    under uniform punishment.
    """
    return (beta * tau + nu * psi) / (beta - (1 - nu) * psi)


def dpro(beta, nu, tau, psi):
    """
    Computes the critical point between self-censorship and defiance as well as
    the level of self-censorship enacted under proportional punishment.
    """
    return (tau + (beta - nu * psi) / ((1 - nu) * psi)) / 2 if nu < 1 else 0


def opt_actions(deltas, betas, nu, pi, tau, psi):
    """
    A vectorized version of opt_action().

    :param deltas: an array of individuals' float desires to dissent (in [0,1])
    :param betas: an array of individuals' float boldness constants (> 0)
    :param nu: the authority's float surveillance (in [0,1])
    :param pi: 'uniform' or 'proportional' punishment
    :param tau: the authority's float tolerance (in [0,1])
    :param psi: the authority's float punishment severity (> 0)
    :returns: the individuals' float optimal actions (in [0,delta_i])
    """
    if pi == "uniform":
        dunis = (betas * tau + nu * psi) / (betas - (1 - nu) * psi)
        cond = (deltas <= tau) | ((betas > (1 - nu) * psi) & (deltas >= dunis))
        return cond * deltas + np.logical_not(cond) * tau
    elif pi == "proportional":
        if nu == 1:
            dpros = np.zeros(len(deltas))
        else:
            dpros = (tau + (betas - nu * psi) / ((1 - nu) * psi)) / 2
        cond1 = (deltas <= tau) | ((nu == 1) & (betas >= psi)) | ((nu < 1) & (deltas <= dpros))
        cond2 = (deltas > tau) & (((nu == 1) & (betas < psi)) | ((nu < 1) & (tau >= dpros)))
        return cond1 * deltas + cond2 * tau + np.logical_not(cond1 | cond2) * dpros
    else:
        assert False, f'ERROR: Unrecognized punishment function "{pi}"'
