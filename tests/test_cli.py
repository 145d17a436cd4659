"""The `lenet` command itself: help, unknown commands, and one-line errors from the OS."""

from lenet_pynq import blob, cli


def test_help_lists_every_command(capsys):
    assert cli.main([]) == 2
    out = capsys.readouterr().out
    assert all(name in out for name in cli.COMMANDS)


def test_an_unwritable_output_is_one_line_not_a_traceback(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert cli.main(["export", "--blob", str(blob.shipped_path()), "--count", "1", "--out", str(blocker / "sub")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err and len(err.strip().splitlines()) == 1

