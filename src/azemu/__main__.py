from azemu.cli.main import app

app(prog_name="azemu")
