"""The `serving` (write-audit-publish through `serving.publish`) and `site` assets."""
