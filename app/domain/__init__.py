"""Business rules on plain values. Nothing here imports from app.engine or app.web."""
