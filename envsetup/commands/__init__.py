"""Plain functions behind each CLI command: typed arguments in, a result out."""
