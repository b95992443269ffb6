"""Command-line entry point: ``python main.py --model resnet18 --hwconfig edge``."""
import sys

from gamma.cli import main

if __name__ == "__main__":
    sys.exit(main())
