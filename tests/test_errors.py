"""inat.core.errors: the one "first line of an exception" helper every one-line error goes through."""
from inat.core.errors import first_line


def test_first_non_empty_line_stripped():
    assert first_line(ValueError("\n\n  bad weights  \nTraceback (most recent call last):\n  ...")) == "bad weights"


def test_no_text_gives_the_class_name():
    assert first_line(KeyboardInterrupt()) == "KeyboardInterrupt"
    assert first_line(OSError("\n   \n")) == "OSError"


def test_cut_only_when_a_limit_is_given():
    # The CLI's and the app's messages end with what to do (`... --trust-pickle`): never cut by default.
    long = "/a/long/path/" * 20 + "model.pt is a pickle: ... run again with --trust-pickle"
    assert first_line(RuntimeError(long)) == long
    assert first_line(RuntimeError("abcdef"), limit=3) == "abc"
