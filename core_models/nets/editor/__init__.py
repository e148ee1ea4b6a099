"""Text-based pose editing (PoseFix-style cVAE): pose A + instruction → pose B (:func:`load_editor`).

Runtime API only (model + loaders/wrappers); training and evaluation live in ``.train`` / ``.eval`` and are
never imported from here."""
from core_models.text.clauses import split_clauses

from .infer import (
                    BODY_WORDS,
                    Editor,
                    EditorUnavailable,
                    EditResult,
                    build_model,
                    hold_unnamed,
                    load_editor,
                    load_state_compat,
                    looks_like_instruction,
                    named_parts,
)
from .model import (
                    DEFAULT_CONFIG,
                    KEYWORDS,
                    MAX_CLAUSE_TOKENS,
                    TEXT_DIM_IN,
                    ClauseBatch,
                    ClauseTextHead,
                    PoseEditor,
                    clause_batch_from_lists,
                    keyword_flags,
                    recon_nll,
)

__all__ = ["BODY_WORDS", "ClauseBatch", "ClauseTextHead", "DEFAULT_CONFIG", "EditResult", "Editor",
           "EditorUnavailable", "KEYWORDS", "MAX_CLAUSE_TOKENS", "PoseEditor", "TEXT_DIM_IN", "build_model",
           "clause_batch_from_lists", "hold_unnamed", "keyword_flags", "load_editor", "load_state_compat",
           "looks_like_instruction", "named_parts", "recon_nll", "split_clauses"]
