"""gamma: genetic design-space exploration of DNN accelerator mappings and hardware."""

__version__ = "0.1.0"
