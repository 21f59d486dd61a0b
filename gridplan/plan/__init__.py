"""Stage 4: a plan that planners edit (move, split, merge, lock, undo) and save."""

from gridplan.plan.model import Plan

__all__ = ["Plan"]
