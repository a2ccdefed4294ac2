"""dbt models as assets (split at the quality gate) and how their keys are named."""
