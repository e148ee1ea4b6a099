"""Instruction text shared by the editor, the QPoser prompt model and the coach: clause splitting
(:mod:`core_models.text.clauses`), the sentence parser (part, side, direction, amount, hold clauses,
references), measurements used to check edits, and the human-phrasing evaluation. Qt-free, no training code."""
