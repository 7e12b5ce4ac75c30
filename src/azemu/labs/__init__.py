"""Graded labs built from the AZ-104 chapter (the seed): lab definitions as data with small start and check
functions over the domain (catalog.py), the learner's progress in the state store (progress.py), and the
service the admin API serves (service.py). Imports the domain, never the server or HTTP."""
