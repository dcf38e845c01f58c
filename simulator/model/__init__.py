"""The model: one module per mechanism, each stating its equations (docs/model.md)."""
