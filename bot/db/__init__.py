"""Storage: typed models, the engine and session factory, migrations on start-up."""
