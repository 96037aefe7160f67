"""sdsessions: browse, judge and organise Stable Diffusion generation sessions from the terminal."""

__version__ = "0.1.0"
