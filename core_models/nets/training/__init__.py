"""Code shared by the training and evaluation modules (``core_models.nets.<model>.train`` / ``.eval``): pose
pairs with their texts (:mod:`.pairs`), capture training data (:mod:`.capture_data`), logging, learning-rate
schedules, batching and thread setup (:mod:`.common`), retrieval (:mod:`.retrieval`) and text metrics
(:mod:`.textmetrics`). Nothing at run time (the app, the capture pipeline, the loaders) imports this package."""
