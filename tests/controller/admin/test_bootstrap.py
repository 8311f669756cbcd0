"""The embedded platform's agent key: made once beside the admin token, an agent's and never the admin's."""

from __future__ import annotations

from pathlib import Path

from controller.accounts.auth import resolve_token
from controller.accounts.models import Account
from controller.admin.bootstrap import ensure_admin_token, ensure_agent_token
from tests.controller.api_support import Api


async def test_the_embedded_agent_gets_its_own_agent_key_in_a_0600_file_kept_across_restarts(
    api: Api, tmp_path: Path
) -> None:
    # Given the embedded admin's token
    data_dir = tmp_path / "data"
    admin = await api.write(ensure_admin_token, data_dir)

    # When the embedded agent's key is asked for twice (a first start, then a restart)
    first = await api.write(ensure_agent_token, data_dir)
    again = await api.write(ensure_agent_token, data_dir)

    # Then it is an agent's key, not the admin's, kept in agent-token readable by its owner only
    assert first == again != admin
    assert resolve_token(f"Bearer {first}").role == "agent"
    assert (data_dir / "agent-token").read_text().strip() == first
    assert (data_dir / "agent-token").stat().st_mode & 0o777 == 0o600
    assert Account.select().where(Account.role == "agent").count() == 1


async def test_an_agent_token_file_holding_another_key_is_replaced_by_an_agent_key(api: Api, tmp_path: Path) -> None:
    # Given an agent-token file that holds the admin's token, world-readable
    data_dir = tmp_path / "data"
    admin = await api.write(ensure_admin_token, data_dir)
    (data_dir / "agent-token").write_text(admin + "\n")
    (data_dir / "agent-token").chmod(0o644)

    # When the embedded agent's key is asked for
    key = await api.write(ensure_agent_token, data_dir)

    # Then the admin token is not handed to the agent: a new agent key replaces it, in a 0600 file
    assert key != admin and resolve_token(f"Bearer {key}").role == "agent"
    assert (data_dir / "agent-token").read_text().strip() == key
    assert (data_dir / "agent-token").stat().st_mode & 0o777 == 0o600
