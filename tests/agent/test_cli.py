"""`computalot-agent` reads its key from a file or the environment, never from argv."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from agent.cli import main, read_key
from agent.settings import AgentSettings

ARGS = ["--controller", "http://127.0.0.1:1", "--broker", "memory://"]


def test_an_agent_key_on_the_command_line_is_refused_before_anything_starts() -> None:
    # When the agent is started with its key in argv
    result = CliRunner().invoke(main, [*ARGS, "--token", "flk_in_argv"], env={"COMPUTALOT_AGENT_TOKEN": ""})
    # Then it exits with a usage error naming the file and the environment variable instead
    assert result.exit_code == 2
    assert "--token-file" in result.output and "COMPUTALOT_AGENT_TOKEN" in result.output


def test_an_agent_without_a_key_says_how_to_make_and_pass_one() -> None:
    # When the agent is started with neither a key file nor the key's variable
    env = {"COMPUTALOT_AGENT_TOKEN": "", "COMPUTALOT_AGENT_TOKEN_FILE": ""}
    result = CliRunner().invoke(main, ARGS, env=env)
    # Then it exits with a usage error naming both ways and create-agent
    assert result.exit_code == 2
    assert "create-agent" in result.output and "--token-file" in result.output


def test_the_key_is_read_from_the_file_before_the_environment(tmp_path: Path) -> None:
    # Given a key file (with a trailing newline, as create-agent writes it) and a key in the environment
    key_file = tmp_path / "agent-key"
    key_file.write_text("flk_from_file\n")
    key_file.chmod(0o600)
    # Then the file's key wins, and the environment's is used when there is no file
    assert read_key(key_file, "flk_from_env") == "flk_from_file"
    assert read_key(None, " flk_from_env\n") == "flk_from_env"


def test_an_empty_key_file_is_refused(tmp_path: Path) -> None:
    # Given an empty key file
    key_file = tmp_path / "agent-key"
    key_file.write_text("\n")
    # Then reading it is a usage error naming the file
    with pytest.raises(click.UsageError, match="is empty"):
        read_key(key_file, "flk_from_env")


def test_the_key_never_shows_in_the_settings_repr() -> None:
    # Given settings holding a key
    settings = AgentSettings(controller_url="http://c", broker_url="memory://", token="flk_secret")
    # Then their repr (what a log line of them would show) leaves it out
    assert "flk_secret" not in repr(settings)
