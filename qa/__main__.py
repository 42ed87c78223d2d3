from qa.cli.main import cli

cli()
