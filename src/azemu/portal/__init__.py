"""azemu's web portal: pages and scripts served at ``/portal`` (every action they take is an ARM request
with the signed-in user's token, the same API the az CLI uses), and the serial console's WebSocket session.

``assets`` serves the static files (``static/``; third-party packages from npm are copied into
``static/vendor`` by ``scripts/setup``) with a strict Content-Security-Policy; ``console`` runs one serial
console session (:mod:`azemu.domain.serial_console`) over a WebSocket that the server has admitted.
"""
