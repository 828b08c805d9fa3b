"""The README's two install commands get exactly the versions CI tested: requirements*.txt are
pinned sets compiled from the ranges in requirements*.in (.ci/compile-requirements). Every pin
must satisfy its range, and every range must be pinned (issue 16, item 2)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]


def ranges(name: str) -> list[Requirement]:
    out = []
    for raw in (ROOT / name).read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            out.append(Requirement(line))
    return out


def pins(name: str) -> dict[str, str]:
    out = {}
    for raw in (ROOT / name).read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-]+)==(\S+)", raw.strip())
        if match:
            out[canonicalize_name(match[1])] = match[2]
    return out


@pytest.mark.parametrize("ranges_file, pinned_file", [("requirements.in", "requirements.txt"),
                                                      ("requirements-dev.in", "requirements-dev.txt")])
def test_every_range_is_pinned_inside_it(ranges_file, pinned_file):
    pinned = pins(pinned_file) | pins("requirements.txt")
    for requirement in ranges(ranges_file):
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{requirement} is in {ranges_file} but not pinned in {pinned_file}"
        assert requirement.specifier.contains(pinned[name], prereleases=True), (
            f"{pinned_file} pins {name}=={pinned[name]}, outside {ranges_file}'s {requirement.specifier}")


def test_every_line_of_the_pinned_sets_is_a_pin():
    """No range slipped into a compiled file: each install gets one version of each package."""
    for name in ("requirements.txt", "requirements-dev.txt"):
        for raw in (ROOT / name).read_text().splitlines():
            line = raw.split("#", 1)[0].strip()
            assert not line or line.startswith(("-e .", "-r requirements.txt")) or "==" in line, (name, raw)


def test_the_runtime_and_dev_pins_agree():
    runtime, dev = pins("requirements.txt"), pins("requirements-dev.txt")
    assert {n: v for n, v in dev.items() if n in runtime and runtime[n] != v} == {}
    assert (ROOT / "requirements-dev.txt").read_text().startswith("-r requirements.txt")
    assert "-e ." in (ROOT / "requirements.txt").read_text().splitlines()[-1]
