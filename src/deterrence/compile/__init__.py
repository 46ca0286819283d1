"""Compiling a parsed model: lower PySD's abstract model to the IR (:mod:`.lower`, with
:mod:`.stateful` and :mod:`.switches`), plan its evaluation (:mod:`.plan`) and emit code
(:mod:`.emit_numpy`)."""

from .emit_numpy import Controls, EulerRun, Kernels, Program, Rates, Setup, build_program
from .ir import Node, NodeKind, Variable, VarKind
from .lower import CONTROLS, CompiledModel, compile_model
from .randomness import random_streams

__all__ = ["CONTROLS", "CompiledModel", "Controls", "EulerRun", "Kernels", "Node", "NodeKind",
           "Program", "Rates", "Setup", "VarKind", "Variable", "build_program",
           "compile_model", "random_streams"]
