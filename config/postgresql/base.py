"""Django's PostgreSQL backend, with a connection pool that checks each connection at
checkout without a round trip (config.database_pool.check_at_checkout).

Django builds its pool with psycopg's `check_connection` (an empty query) when
CONN_HEALTH_CHECKS is on and with no check at all otherwise, and takes no `check` of its own
from the pool options; this backend builds the pool as Django 5.2 does (its pool registry and
connection set-up are private: tests/config/test_database_pool.py holds them to it), with the
cheaper check."""

from __future__ import annotations

from django.db.backends.base.base import NO_DB_ALIAS
from django.db.backends.postgresql import base as postgresql
from psycopg_pool import ConnectionPool

from config.database_pool import check_at_checkout


class DatabaseWrapper(postgresql.DatabaseWrapper):
    @property
    def pool(self) -> ConnectionPool | None:
        options = self.settings_dict["OPTIONS"].get("pool")
        pools = self._connection_pools  # type: ignore[attr-defined]
        if self.alias != NO_DB_ALIAS and options and self.alias not in pools:
            pool = ConnectionPool(
                kwargs=self.get_connection_params() | {"autocommit": True},
                open=False,  # as Django's: opened on the first connection
                configure=self._configure_connection,  # type: ignore[attr-defined]
                check=check_at_checkout,
                **({} if options is True else options),
            )
            pools.setdefault(self.alias, pool)
        return super().pool
