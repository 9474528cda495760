"""One module per catalog example (E01–E29), in the seeds' order, each with its reference beside it."""
