"""The independent text ⇄ pose-pair retrieval judge (:func:`load_judge`).

Runtime API only (model + loaders/wrappers); training and evaluation live in ``.train`` / ``.eval`` and are
never imported from here."""
from .infer import Judge, load_judge
from .model import JudgeConfig, JudgeNet, build_judge_net, ngram_codes, pad_batch

__all__ = ["Judge", "JudgeConfig", "JudgeNet", "build_judge_net", "load_judge", "ngram_codes", "pad_batch"]
