"""The compiled passes (numba): arrays and numbers in, arrays and numbers out.

They import nothing of the model, only numpy, numba and the shared enumerations of
:mod:`simulator.kinds` (``tests/test_architecture.py`` holds them to it). One module per
subject: ``numeric`` (numpy's arithmetic, exactly), ``routes`` (routes and withholding),
``benign`` (benign outcome groups), ``draws``, ``speech``, ``moderation``, ``channel`` and
``publishing`` (a day's speech), ``learning`` (perceived risk and the daily counts),
``sanctions``, ``network``, ``queue`` (the heaps and the multi-server queue the review and
the police share), ``review``, ``police``, ``handles`` (generators passed as addresses)
and ``plan`` (what :mod:`simulator.engine.warmup` compiles ahead). Each kernel is compiled on
first use and cached on disk (``cache=True``) next to its module;
``NUMBA_DISABLE_JIT=1`` runs them as plain Python (slow; for debugging).

numba checks a cached kernel against its own file only, so a caller's cached code would
keep an edited callee of another module (``numeric``, ``routes``, ``queue``...); on
import, :mod:`.cache_stamp` drops every cached kernel of the package when any kernel
module's source changed since the cache was stamped, and the next run compiles them
again.
"""

from simulator.kernels.cache_stamp import drop_if_sources_changed

drop_if_sources_changed()
