"""inat.errors: the one "first line of an exception" helper every one-line error goes through."""
from inat.errors import first_line


def test_first_non_empty_line_stripped():
    assert first_line(ValueError("\n\n  bad weights  \nTraceback (most recent call last):\n  ...")) == "bad weights"


def test_no_text_gives_the_class_name():
    assert first_line(KeyboardInterrupt()) == "KeyboardInterrupt"
    assert first_line(OSError("\n   \n")) == "OSError"


def test_cut_to_the_limit():
    assert first_line(RuntimeError("x" * 500)) == "x" * 160
    assert first_line(RuntimeError("abcdef"), limit=3) == "abc"
