"""`python -m inat` / `inat`: one module per command family; each adds its sub-commands with `add_cli`."""
