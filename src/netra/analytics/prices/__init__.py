"""Prices: the pinned catalog, pricing a dataset (the ``usage`` view), cheaper siblings."""
