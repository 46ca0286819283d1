"""The explicit fallback engine: ``deterrence.load(path, engine="pysd")`` runs PySD's own
builder and runner, for a model that uses something the compiled engine refuses.

It is chosen by name, never silently: the compiled engine's errors suggest it. The
model file is read by the same guarded front end (:mod:`deterrence.frontend`), its
abstract model is neutralised before PySD writes Python from it
(:mod:`.neutralise`), the generated module lives in a private temporary folder, and
the results come back in the compiled engine's Dataset layout (:mod:`.runner`).
"""

from .runner import PySDModel, load_pysd

__all__ = ["PySDModel", "load_pysd"]
