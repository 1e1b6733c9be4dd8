"""The README's commands exist, and CI runs the README's test command."""

import re
from pathlib import Path

from click.testing import CliRunner

from assistant.cli import main

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


GROUPS = {"index", "model", "feedback", "review", "db"}


def cli_words(mention: str) -> list[str]:
    words = mention.split()
    return words if words[0] in GROUPS else words[:1]


def test_every_documented_command_exists():
    documented = {" ".join(cli_words(m)) for m in re.findall(r"`assistant ([a-z]+(?: [a-z]+)?)", README)}
    assert {
        "serve",
        "ask",
        "index update",
        "index build",
        "index info",
        "eval",
        "feedback export",
        "review export",
    } <= documented
    runner = CliRunner()
    for command in documented:
        result = runner.invoke(main, [*command.split(), "--help"])
        assert result.exit_code == 0, (command, result.output)


def test_ci_runs_the_readme_test_command():
    setup = README.split("## Set-up", 1)[1].split("##", 1)[0]
    test_command = re.search(r"^(make test)\s", setup, re.MULTILINE).group(1)
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert test_command in ci_lines
