"""One package per ARM namespace: parse and validate, call the domain, shape the response as Azure does."""
