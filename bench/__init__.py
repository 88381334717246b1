"""``kb bench``: reproducible performance benchmark on a synthetic knowledge base.

Kept out of the product packages: it drives the indexer, the Flask app and waitress from the
outside, as a user would, and only the ``kb bench`` command imports it.
"""
