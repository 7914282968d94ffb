"""Pure text editors: each takes a file's text and returns the edited text.

They change only the lines they own; every other line, comment, blank line,
line ending and their order are kept byte for byte. pyinfra has no editor that
keeps a file this way, so envsetup adds these and uploads the result.
"""
