"""``python -m graphlets``: the same command as the ``graphlets`` console script."""

from graphlets.cli.main import app

if __name__ == "__main__":
    app(prog_name="graphlets")
