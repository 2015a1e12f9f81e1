"""The public library surface is exactly basalt.__all__."""

from __future__ import annotations

import basalt
import basalt.errors


def test_all_names_exist_and_nothing_public_is_missing() -> None:
    for name in basalt.__all__:
        assert hasattr(basalt, name), name
    public = {n for n in vars(basalt) if not n.startswith("_") and n[0].isupper()}
    assert public - {"Settings"} <= set(basalt.__all__)


def test_every_error_family_is_exported() -> None:
    roots = {cls.__name__ for cls in basalt.errors.BasaltError.__subclasses__()}
    assert roots <= set(basalt.__all__), roots - set(basalt.__all__)
