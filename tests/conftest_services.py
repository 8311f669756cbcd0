"""Fixtures that start real PostgreSQL, Redis and RabbitMQ servers for the test session.

Load with `pytest_plugins = ["tests.conftest_services"]` in tests/conftest.py. A missing server binary makes
every test that asks for it error out with the binary's name: these fixtures never skip.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis

from tests.services import PostgresServer, RabbitMQServer, RedisServer, start_postgres, start_rabbitmq, start_redis


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The session's PostgreSQL server, shared by later tests: never stop it (use `private_*` for that)."""
    with start_postgres() as server:
        yield server


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """The session's Redis server, shared by later tests: never stop it (use `private_*` for that)."""
    with start_redis() as server:
        yield server


@pytest.fixture(scope="session")
def rabbitmq_server() -> Iterator[RabbitMQServer]:
    """The session's RabbitMQ server, shared by later tests: never stop it (use `private_*` for that)."""
    with start_rabbitmq() as server:
        yield server


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> str:
    """`postgresql://computalot:computalot@127.0.0.1:PORT/computalot`, shared by the whole session."""
    return postgres_server.url


@pytest.fixture(scope="session")
def redis_url(redis_server: RedisServer) -> str:
    """`redis://127.0.0.1:PORT/0`, shared by the whole session."""
    return redis_server.url


@pytest.fixture(scope="session")
def amqp_url(rabbitmq_server: RabbitMQServer) -> str:
    """`amqp://guest:guest@127.0.0.1:PORT/%2F`, shared by the whole session."""
    return rabbitmq_server.url


@pytest.fixture
def postgres_db_url(postgres_server: PostgresServer) -> Iterator[str]:
    """URL of a new empty database owned by the session's user, dropped after the test."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    yield postgres_server.create_database(name)
    postgres_server.drop_database(name)


@pytest.fixture
def fresh_redis_url(redis_url: str) -> str:
    """`redis_url` with every database flushed, so no key from an earlier test is visible."""
    client = redis.Redis.from_url(redis_url)
    try:
        client.flushall()
    finally:
        client.close()
    return redis_url


@pytest.fixture
def private_redis() -> Iterator[RedisServer]:
    """A Redis server for this test alone, which it may stop, kill and restart."""
    with start_redis() as server:
        yield server


@pytest.fixture
def private_rabbitmq() -> Iterator[RabbitMQServer]:
    """A RabbitMQ server for this test alone (about 4 s to start), which it may stop, kill and restart."""
    with start_rabbitmq() as server:
        yield server
