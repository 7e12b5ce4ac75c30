"""Guests' SSH (asyncssh): the SSH protocol in front of :mod:`azemu.domain.guest_sessions`.

An outer layer, like ``server/``: it imports the domain (never the other way round) and is started by
``server/runner.py`` beside the HTTPS app, in the same event loop.
"""
