"""CLI command modules, one per area; each exposes ``register(app, group)``.

``group(name, help)`` returns (creating on first use) a sub-command group such as
``deploy`` or ``destroy``, so several areas can add commands to the same group.
"""
