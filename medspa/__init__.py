"""medspa."""
