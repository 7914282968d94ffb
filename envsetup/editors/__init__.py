"""Pure text editors, each built on a model of the program that reads its file.

An editor takes a file's text and returns the edited text. The model decides whether
a change is needed (a file whose reader already sees the wanted value is returned as
it is), where the new line goes (where the reader sees it), and checks the result.
Every other byte is kept. pyinfra has no editor that keeps a file this way, so
envsetup adds these and writes the result (see ``envsetup.target_files``).
"""


class EditRefused(ValueError):
    """The file cannot be changed so that its reader sees the wanted value: why, and the fix."""
