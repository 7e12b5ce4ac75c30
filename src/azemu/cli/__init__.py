"""The ``azemu`` command."""
