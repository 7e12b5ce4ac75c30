"""Guest operating systems as data: a filesystem (and, on Windows, a registry) per OS disk, the in-guest
commands Run Command executes, the generalization tools, and first-boot provisioning.

Nothing here imports the domain, the server or the store: a guest is plain data plus pure functions.
"""
