"""The web page served at /."""
