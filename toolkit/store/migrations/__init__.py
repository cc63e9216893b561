"""Alembic migrations of the ballot store (run by :meth:`toolkit.store.Store.open`)."""
