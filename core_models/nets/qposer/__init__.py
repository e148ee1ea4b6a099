"""QPoser: quantized part-wise pose prior (:func:`load_qposer`), its masked code generator (:func:`load_gen`)
and its text-prompt model (:func:`load_prompter`); :class:`LatentEditor` drives the app's latent panel.

Runtime API only (model + loaders/wrappers); training and evaluation live in ``.train`` / ``.eval`` and are
never imported from here."""
from .infer import (
                    ClauseFeatures,
                    LatentEditor,
                    Prompter,
                    VAEPrior,
                    compute_part_paths,
                    load_gen,
                    load_prompter,
                    load_qposer,
                    load_vae_baseline,
                    model_spec,
                    prompted_parts,
                    slider_orders,
                    tour_order,
)
from .model import (
                    BANK_OF,
                    NUM_BODY,
                    PART_JOINTS,
                    PARTS,
                    TEXT_DIM,
                    EMACodebooks,
                    MaskedCodeTransformer,
                    MultiHeadMLP,
                    PartDecoder,
                    PromptToCodes,
                    QPoser,
                    QPoserConfig,
                    ablation_config,
                    body_rotmats,
                    build_qposer,
                    full_rotmats,
                    joints_of,
                    mpjae_deg,
)

__all__ = ["BANK_OF", "ClauseFeatures", "EMACodebooks", "LatentEditor", "MaskedCodeTransformer", "MultiHeadMLP",
           "NUM_BODY", "PARTS", "PART_JOINTS", "PartDecoder", "PromptToCodes", "Prompter", "QPoser", "QPoserConfig",
           "TEXT_DIM", "VAEPrior", "ablation_config", "body_rotmats", "build_qposer", "compute_part_paths",
           "full_rotmats", "joints_of", "load_gen", "load_prompter", "load_qposer", "load_vae_baseline",
           "model_spec", "mpjae_deg", "prompted_parts", "slider_orders", "tour_order"]
