"""The README's config reference and commands stay true."""
import re

import settings
from mockcloud.program import ROOT

README = (ROOT / "README.md").read_text()


def test_every_config_key_is_documented():
    documented = set(re.findall(r"^\| `(\w+)` \|", README, flags=re.MULTILINE))
    assert {key.name for key in settings.KEYS} <= documented


def test_every_make_target_named_exists():
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][\w-]*):", makefile, flags=re.MULTILINE))
    named = set(re.findall(r"`make ([a-z][\w-]*)", README))
    assert named and named <= targets, named - targets
