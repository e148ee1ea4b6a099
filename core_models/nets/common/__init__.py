"""Building blocks shared by several models and needed at run time: the VPoser-style pose auto-encoder pieces
(:mod:`.pose_vae`), small shared layers (:mod:`.layers`), the frozen MiniLM text encoder (:mod:`.text_encoder`)
and the hash-checked weights files (:mod:`.weights`). Never imports training or evaluation code."""
