"""Disk content: a content-addressed, immutable blob store (copy-on-write by construction), disk trees
that reference blobs, garbage collection of unreferenced blobs, and VHD export."""
