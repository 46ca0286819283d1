"""Hydra launchers of ``deterrence`` (``hydra/launcher=cores``, ``local``, ``slurm``).

Hydra takes launchers only from the ``hydra_plugins`` package, hence this one. See
:mod:`hydra_plugins.deterrence_launchers.launchers`.
"""
