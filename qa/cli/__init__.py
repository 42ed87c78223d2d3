"""The `qa` command: click options that parse input, call one library function, print."""
