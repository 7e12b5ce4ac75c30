"""The controllable clock, latency profiles, fault injection and the job runner."""
