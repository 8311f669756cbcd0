"""The service fixtures start real servers that clients can use, stop and restart."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pika
import psycopg2
import pytest
import redis

from tests.services import RabbitMQServer, RedisServer

pytestmark = pytest.mark.services


def _living(pids: set[int]) -> dict[int, str]:
    """Return {pid: command name} for the pids that still run (zombies count as gone)."""
    living = {}
    for pid in pids:
        try:
            stat = Path("/proc", str(pid), "stat").read_text()
        except OSError:
            continue
        if stat[stat.rindex(")") + 2] != "Z":
            living[pid] = stat[stat.index("(") + 1 : stat.rindex(")")]
    return living


def test_postgres_url_logs_in_with_a_password_and_round_trips_a_row(postgres_url: str) -> None:
    # Given a TCP connection as the password user
    with contextlib.closing(psycopg2.connect(postgres_url)) as conn, conn.cursor() as cur:
        # When a row is written and read back
        cur.execute("CREATE TEMP TABLE notes (body text)")
        cur.execute("INSERT INTO notes VALUES (%s)", ("hello",))
        cur.execute("SELECT body, current_user FROM notes")
        # Then it comes back, read by that user
        assert cur.fetchone() == ("hello", "computalot")


def test_postgres_db_url_is_a_new_empty_database_the_user_can_write(postgres_db_url: str) -> None:
    # Given the per-test database
    with contextlib.closing(psycopg2.connect(postgres_db_url)) as conn, conn.cursor() as cur:
        # When its name and tables are listed
        cur.execute("SELECT current_database(), count(*) FROM pg_tables WHERE schemaname = 'public'")
        name, tables = cur.fetchone()
        # Then it is not the shared database, holds nothing, and accepts a table
        assert (name.startswith("test_"), tables) == (True, 0)
        cur.execute("CREATE TABLE jobs (id int)")


def test_redis_url_round_trips_a_value(redis_url: str) -> None:
    # Given a client of the session's server
    client = redis.Redis.from_url(redis_url)
    # When a key is set (and left behind for the next test)
    client.set("greeting", "hello")
    # Then it reads back
    assert client.get("greeting") == b"hello"
    client.close()


def test_fresh_redis_url_shows_no_key_left_by_an_earlier_test(fresh_redis_url: str) -> None:
    # Given the key the previous test left on the same server, flushed by the fixture
    client = redis.Redis.from_url(fresh_redis_url)
    # Then the server is empty
    assert client.dbsize() == 0
    client.close()


def test_amqp_url_delivers_a_published_message_to_a_consumer(amqp_url: str) -> None:
    # Given a queue on the session's broker
    with contextlib.closing(pika.BlockingConnection(pika.URLParameters(amqp_url))) as conn:
        channel = conn.channel()
        queue = channel.queue_declare("", exclusive=True).method.queue
        # When a message is published to it
        channel.basic_publish(exchange="", routing_key=queue, body=b"hello")
        # Then a consumer receives it
        method, _, body = next(channel.consume(queue, auto_ack=True, inactivity_timeout=10))
        assert (method is not None, body) == (True, b"hello")


def test_a_stopped_redis_server_refuses_clients_until_it_starts_again_on_the_same_port(
    private_redis: RedisServer,
) -> None:
    # Given a client that reaches the server
    client = redis.Redis.from_url(private_redis.url, socket_connect_timeout=1)
    port = private_redis.port
    assert client.ping()
    # When the server stops, the client is refused
    private_redis.stop()
    with pytest.raises(redis.ConnectionError):
        client.ping()
    # Then after a start the same client reaches it again on the same port
    private_redis.start()
    assert private_redis.port == port
    assert client.ping()
    client.close()


def test_killing_or_stopping_rabbitmq_leaves_none_of_its_processes_running(private_rabbitmq: RabbitMQServer) -> None:
    # Given the node and the epmd it started
    before_kill = private_rabbitmq.pids()
    assert {"epmd", "beam.smp"} <= set(_living(before_kill).values())
    # When it is killed as a crash would, then nothing of it survives
    private_rabbitmq.kill()
    assert _living(before_kill) == {}
    # When it starts again on the same port and stops cleanly, then clients got in and nothing survives
    private_rabbitmq.start()
    pika.BlockingConnection(pika.URLParameters(private_rabbitmq.url)).close()
    before_stop = private_rabbitmq.pids()
    private_rabbitmq.stop()
    assert _living(before_stop) == {}
