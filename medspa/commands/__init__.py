"""One module per `medspa` sub-command (listed in `medspa.cli.COMMANDS`).

Each builds `Settings` from its options and calls the libraries (or the Dagster job) with
plain values. Heavy imports happen inside `run()`, so `medspa --help` stays fast.
"""
