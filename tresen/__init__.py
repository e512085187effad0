"""The entry point: the `tresen` command and the composition root that builds store, sync engine and
devices and hands them to the Textual App. The one package that knows every layer."""
