"""Use cases. No Discord imports here: adapters (Discord, console, CLI) call these."""
