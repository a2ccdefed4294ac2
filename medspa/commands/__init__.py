"""One module per `medspa` sub-command (see medspa.cli)."""
