"""The model: the scenario and one module per mechanism, each stating its equations and
citing docs/model.md's section (3.3 Submodels).

``speech`` (intended speech's withholding, perceived risk), ``platforms`` (moderation
policy, thresholds, money), ``review_queue`` (the review queue; ``review_arrays`` its
array form for the compiled step), ``regulator`` (audits and the penalty ladder),
``police``, ``population`` (users and network), ``scenario`` (the input); and, moved out of
the engine's ``Simulation``, ``real_name``, ``reporting``, ``sanctions`` (strikes,
closures, exits, detentions, platform exits and suspensions, migration) and ``orders``
(takedown orders, notice duties and deadlines, appeals), which read the run through the
narrow protocols of ``views``. The model drives the compiled passes of
:mod:`simulator.kernels` and never imports the engine.
"""
