"""Command-line entry point: ``python main.py --model resnet18 --hwconfig edge``."""
from gamma.cli import run

if __name__ == "__main__":
    run()
