"""Deploy targets: one module per target; pure builders plus functions that apply them."""
