"""The lowered form shared by every backend: `nodes` (the tree), `lower` (model -> tree)."""
