"""`computalot-controller`: its flags reach the settings, and a bad one stops it with the message."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from controller.cli import main


def test_a_mistyped_x402_facilitator_flag_stops_the_controller_naming_the_choices(tmp_path: Path) -> None:
    # Given a facilitator that is neither a URL nor local-dev
    args = ["--data-dir", str(tmp_path), "--x402-facilitator", "local"]

    # When the controller is started with it
    result = CliRunner().invoke(main, args, env={"COMPUTALOT_X402_FACILITATOR": ""})

    # Then it exits before serving, saying what the value may be, without a traceback
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "must be an http(s) URL or local-dev, got 'local'" in result.output
