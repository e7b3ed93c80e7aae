"""The pytest plugin of kv-emulator: the ``keyvault`` fixture, marker and session mode."""
