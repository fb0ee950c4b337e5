"""Architecture search under measured budgets (``kws search``)."""
