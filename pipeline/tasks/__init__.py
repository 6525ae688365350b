"""Luigi tasks: thin wrappers that read inputs, call one pure function and write one target."""
