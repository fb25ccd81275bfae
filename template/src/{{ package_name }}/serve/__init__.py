"""HTTP serving: the app factory, its state and its routes."""
